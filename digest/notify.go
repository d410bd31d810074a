package digest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/wneessen/go-mail"

	"github.com/parleybot/parley"
)

// Notice is a short message for the team (an alert), sent through the
// digest's delivery: the same Discord and email targets, retries and
// SMTP settings.
type Notice struct {
	// ID is unique per notice ("alert-12"); posts carry it as their
	// idempotency key, so a retried post is not doubled.
	ID      string
	Subject string
	// Text is the body, plain text (Discord shows it as Markdown).
	Text string
}

// NoticePoster posts a notice to a chat target (a Discord channel). The
// posters a Service is given may implement it besides Poster; errors are
// classified as Poster's.
type NoticePoster interface {
	PostNotice(ctx context.Context, target Target, n Notice) error
}

// NoticeTargetTypes are the target types a notice can go to.
var NoticeTargetTypes = []string{TargetDiscord, TargetEmail}

// Notify sends n to every target at once, each with the digest's retries,
// and returns the outcomes in targets' order; the error (EUNAVAILABLE or
// the first final one) names the targets that failed.
func (s *Service) Notify(ctx context.Context, targets []Target, n Notice) ([]parley.DigestDelivery, error) {
	out := make([]parley.DigestDelivery, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = s.retry(ctx, t, "notice", "notice", n.ID, func() (string, error) { return s.notifyOnce(ctx, t, n) })
		}()
	}
	wg.Wait()
	var failed []string
	for _, d := range out {
		if !d.OK {
			failed = append(failed, d.Target+": "+d.Error)
		}
	}
	if len(failed) > 0 {
		return out, parley.Errorf(parley.EUNAVAILABLE, "notice %s: %d of %d targets failed: %s", n.ID, len(failed), len(targets),
			strings.Join(failed, "; "))
	}
	return out, nil
}

func (s *Service) notifyOnce(ctx context.Context, t Target, n Notice) (string, error) {
	switch t.Type {
	case TargetEmail:
		return s.sendMail(ctx, t, n.Subject, func(m *mail.Msg) error {
			m.SetBodyString(mail.TypeTextPlain, n.Text)
			return nil
		})
	case TargetDiscord:
		p, ok := s.opts.Posters[t.Type].(NoticePoster)
		if !ok {
			return "", parley.Errorf(parley.EINVALID, "no %s connector is set up to post alerts", t.Type)
		}
		return "", p.PostNotice(ctx, t, n)
	}
	return "", parley.Errorf(parley.EINVALID, "a notice cannot go to a %s target: want one of %v", t.Type, NoticeTargetTypes)
}

// ValidateTargets checks the targets of a config section other than the
// digest's (alerts.channels) as Validate checks the digest's: each must
// be of one of types, complete, and named uniquely. Errors are
// *FieldError naming section[i]. getenv, when non-nil, checks that the
// variables a target names are set.
func ValidateTargets(section string, targets []Target, types []string, getenv func(string) string) []error {
	var errs []error
	seen := map[string]int{}
	for i, t := range (Config{Targets: targets}).WithDefaults().Targets {
		path := fmt.Sprintf("%s[%d]", section, i)
		at := path
		if t.Type != "" {
			at += " (" + t.Type + ")"
		}
		add := func(format string, args ...any) {
			errs = append(errs, &FieldError{Path: path, Err: parley.Errorf(parley.EINVALID, "%s: "+format, append([]any{at}, args...)...)})
		}
		// A section that takes fewer types says which for any other.
		if t.Type != "" && !slices.Contains(types, t.Type) && len(types) < 4 {
			add("type %q: want %s", t.Type, strings.Join(types, " or "))
			continue
		}
		for _, msg := range t.problems(getenv) {
			add("%s", msg)
		}
		if j, dup := seen[t.Key()]; dup {
			add("same name %q as %s[%d]; give one a name:", t.Key(), section, j)
		}
		seen[t.Key()] = i
	}
	return errs
}
