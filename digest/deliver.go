package digest

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/wneessen/go-mail"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/internal/backoff"
)

// Poster posts a digest to a chat platform: to target.Channel for
// TargetDiscord targets, as a direct message to each of target.To for
// TargetMastodon ones. cmd/parley adapts the connectors (which do not
// import this package) with a PosterFunc: Discord would send d.Markdown()
// cut with Split(…, 2000) and no pings allowed; Mastodon d.Text() cut to
// the server's limit, with visibility direct.
//
// PostDigest returns nil once the platform accepted the post. Errors with
// code EINVALID, ENOTFOUND or EFORBIDDEN are final (a bad channel, an
// unknown account, no permission); any other error is retried with
// backoff.
type Poster interface {
	PostDigest(ctx context.Context, target Target, d *Digest) error
}

// PosterFunc adapts a function to a Poster.
type PosterFunc func(ctx context.Context, target Target, d *Digest) error

// PostDigest calls f.
func (f PosterFunc) PostDigest(ctx context.Context, target Target, d *Digest) error {
	return f(ctx, target, d)
}

// rendered is a digest with its bodies rendered once for all targets.
type rendered struct {
	d                    *Digest
	markdown, html, text string
	emailHTML            string
	images               []ChartImage
}

func render(d *Digest) (*rendered, error) {
	r := &rendered{d: d, markdown: d.Markdown(), text: d.Text()}
	var err error
	if r.html, err = d.HTML(HTMLOptions{}); err != nil {
		return nil, err
	}
	if r.emailHTML, err = d.HTML(HTMLOptions{ChartImages: true}); err != nil {
		return nil, err
	}
	if r.images, err = d.ChartImages(); err != nil {
		return nil, err
	}
	return r, nil
}

// permanent reports whether err will not go away by retrying.
func permanent(err error) bool {
	switch parley.ErrorCode(err) {
	case parley.EINVALID, parley.ENOTFOUND, parley.EFORBIDDEN:
		return true
	}
	var se *mail.SendError
	if errors.As(err, &se) && !se.IsTemp() && se.ErrorCode() >= 500 {
		return true
	}
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// deliver sends r to t, retrying failures that may pass (attempts in all,
// waiting backoff, then twice as long, ...). It returns the outcome.
func (s *Service) deliver(ctx context.Context, t Target, r *rendered) parley.DigestDelivery {
	return s.retry(ctx, t, "digest", "week", r.d.Week.String(), func() (string, error) { return s.deliverOnce(ctx, t, r) })
}

// retry calls once until it succeeds, fails for good or has been tried
// Attempts times, waiting with backoff between; kind ("digest"), what and
// id ("week", "2026-W47") name what is sent in the logs.
func (s *Service) retry(ctx context.Context, t Target, kind, what, id string, once func() (string, error)) parley.DigestDelivery {
	out := parley.DigestDelivery{Target: t.Key(), Type: t.Type}
	retry := backoff.Policy{Base: s.opts.Backoff, Max: 64 * s.opts.Backoff}
	for {
		out.Attempts++
		detail, err := once()
		out.At = s.now()
		if err == nil {
			out.OK, out.Detail, out.Error = true, detail, ""
			s.log.Info(kind+" delivered", what, id, "target", out.Target, "attempts", out.Attempts)
			return out
		}
		out.Error = err.Error()
		if permanent(err) || out.Attempts >= s.opts.Attempts || ctx.Err() != nil {
			s.log.Error(kind+" delivery failed", what, id, "target", out.Target, "attempts", out.Attempts, "err", err)
			return out
		}
		wait := retry.Delay(out.Attempts - 1)
		s.log.Warn(kind+" delivery failed; retrying", what, id, "target", out.Target,
			"attempt", out.Attempts, "retry_in", wait, "err", err)
		_ = backoff.Sleep(ctx, wait) // an ended ctx ends the loop at the next failure
	}
}

func (s *Service) deliverOnce(ctx context.Context, t Target, r *rendered) (string, error) {
	switch t.Type {
	case TargetFile:
		return writeFiles(t, r)
	case TargetEmail:
		return s.sendEmail(ctx, t, r)
	case TargetDiscord, TargetMastodon:
		p := s.opts.Posters[t.Type]
		if p == nil {
			return "", parley.Errorf(parley.EINVALID, "no %s connector is set up to post digests", t.Type)
		}
		return "", p.PostDigest(ctx, t, r.d)
	}
	return "", parley.Errorf(parley.EINVALID, "unknown target type %q", t.Type)
}

// FileName returns the name a file target gives week's digest in format
// (md, html or text): parley-digest-2026-W47.html.
func FileName(week Week, format string) string {
	ext := format
	if format == FormatText {
		ext = "txt"
	}
	return "parley-digest-" + week.String() + "." + ext
}

// writeFiles writes the formats of a file target, each atomically (a
// temporary file renamed over the old one).
func writeFiles(t Target, r *rendered) (string, error) {
	// A digest quotes customers and internal numbers: for the team only.
	if err := os.MkdirAll(t.Dir, 0o700); err != nil {
		return "", fmt.Errorf("create digest folder: %w", err)
	}
	var paths []string
	for _, f := range t.Formats {
		var body string
		switch f {
		case FormatMarkdown:
			body = r.markdown
		case FormatHTML:
			body = r.html
		case FormatText:
			body = r.text
		default:
			return "", parley.Errorf(parley.EINVALID, "format %q: want md, html or text", f)
		}
		path := filepath.Join(t.Dir, FileName(r.d.Week, f))
		if err := WriteFileAtomic(path, []byte(body)); err != nil {
			return "", err
		}
		paths = append(paths, path)
	}
	return strings.Join(paths, ", "), nil
}

// WriteFileAtomic writes data to path through a temporary file in the same
// folder, so a reader never sees half a digest. The file is private
// (0600): only the user running Parley reads it.
func WriteFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o600)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name()) // the write error is the one to report
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Subject is the digest's email subject.
func (d *Digest) Subject() string { return d.Title() + ": " + d.headline() }

// sendEmail sends one message to all of t.To: the HTML body with the
// charts as inline PNGs (cid:), and the plain text as the alternative.
func (s *Service) sendEmail(ctx context.Context, t Target, r *rendered) (string, error) {
	return s.sendMail(ctx, t, r.d.Subject(), func(m *mail.Msg) error {
		m.SetBodyString(mail.TypeTextPlain, r.text)
		m.AddAlternativeString(mail.TypeTextHTML, r.emailHTML)
		for _, img := range r.images {
			if err := m.EmbedReader(img.Name, bytes.NewReader(img.PNG), mail.WithFileContentID(img.Name),
				mail.WithFileContentType("image/png"), mail.WithFileDescription(img.Title)); err != nil {
				return fmt.Errorf("attach %s: %w", img.Name, err)
			}
		}
		return nil
	})
}

// sendMail sends one message with subject to all of t.To through t's SMTP
// server; body fills in the message's parts.
func (s *Service) sendMail(ctx context.Context, t Target, subject string, body func(*mail.Msg) error) (string, error) {
	host, portStr, err := net.SplitHostPort(t.SMTP)
	if err != nil {
		return "", parley.Errorf(parley.EINVALID, "smtp %q: want host:port: %w", t.SMTP, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return "", parley.Errorf(parley.EINVALID, "smtp %q: the port is not a number", t.SMTP)
	}
	m := mail.NewMsg()
	if err := m.From(t.From); err != nil {
		return "", parley.Errorf(parley.EINVALID, "from %q: %w", t.From, err)
	}
	if err := m.To(t.To...); err != nil {
		return "", parley.Errorf(parley.EINVALID, "to %v: %w", t.To, err)
	}
	m.Subject(subject)
	m.SetDateWithValue(s.now())
	m.SetMessageID()
	if err := body(m); err != nil {
		return "", err
	}
	if t.UsernameEnv != "" && (s.opts.Getenv(t.UsernameEnv) == "" || s.opts.Getenv(t.PasswordEnv) == "") {
		return "", parley.Errorf(parley.EINVALID, "the SMTP login is not set: set the environment variables %s and %s",
			t.UsernameEnv, t.PasswordEnv)
	}
	c, err := mail.NewClient(host, s.mailOptions(t, host, port)...)
	if err != nil {
		return "", parley.Errorf(parley.EINVALID, "smtp %s: %w", t.SMTP, err)
	}
	if err := c.DialAndSendWithContext(ctx, m); err != nil {
		return "", fmt.Errorf("send email via %s: %w", t.SMTP, err)
	}
	if ids := m.GetGenHeader(mail.HeaderMessageID); len(ids) > 0 {
		return "message " + strings.Trim(ids[0], "<>"), nil
	}
	return "", nil
}

// mailOptions are the SMTP client's options for t: port, timeout, TLS
// mode and login.
func (s *Service) mailOptions(t Target, host string, port int) []mail.Option {
	opts := []mail.Option{mail.WithPort(port), mail.WithTimeout(s.opts.EmailTimeout)}
	tlsConf := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if s.opts.EmailTLS != nil {
		tlsConf = s.opts.EmailTLS.Clone()
		if tlsConf.ServerName == "" {
			tlsConf.ServerName = host
		}
	}
	switch t.TLS {
	case TLSImplicit:
		opts = append(opts, mail.WithSSL(), mail.WithTLSConfig(tlsConf))
	case TLSNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory), mail.WithTLSConfig(tlsConf))
	}
	if t.UsernameEnv != "" {
		// sendMail checked that both are set.
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(s.opts.Getenv(t.UsernameEnv)),
			mail.WithPassword(s.opts.Getenv(t.PasswordEnv)))
	}
	return opts
}
