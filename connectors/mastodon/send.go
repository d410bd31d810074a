package mastodon

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	gomastodon "github.com/mattn/go-mastodon"
	"github.com/parleybot/parley"
	"github.com/parleybot/parley/internal/textutil"
)

// maxSendWait is the longest Send waits for the server's rate limit to
// lift; beyond it Send returns EUNAVAILABLE and the outbox retries later.
const maxSendWait = 10 * time.Second

// visibilities from widest to narrowest.
var visibilityRank = map[string]int{
	gomastodon.VisibilityPublic:        0,
	gomastodon.VisibilityUnlisted:      1,
	gomastodon.VisibilityFollowersOnly: 2,
	gomastodon.VisibilityDirectMessage: 3,
}

// replyVisibility is the visibility of our answer to a post: the post's own
// (so a direct message is answered directly and a followers-only post is
// not broadcast); unlisted when the post's is unknown.
func replyVisibility(answered string) string {
	v := strings.ToLower(strings.TrimSpace(answered))
	if _, ok := visibilityRank[v]; ok {
		return v
	}
	return gomastodon.VisibilityUnlisted
}

// Compose returns the text and visibility Send posts for out: the draft's
// text, starting with @handle of the person answered unless the text
// already mentions them, and the visibility of the post answered (direct
// for a prompt).
func (c *Connector) Compose(ctx context.Context, out parley.Outgoing) (text, visibility string) {
	text = strings.TrimSpace(out.Draft.Text)
	handle := out.To.Handle
	visibility = gomastodon.VisibilityDirectMessage
	if out.InReplyTo != nil {
		if h := out.InReplyTo.Author.Handle; h != "" {
			handle = h
		}
		visibility = replyVisibility(out.InReplyTo.Visibility)
	}
	handle = strings.TrimPrefix(strings.TrimSpace(handle), "@")
	// Only the person answered is mentioned: anyone else the text quotes
	// would be notified (and, for a direct post, receive it).
	text = quoteMentions(text, c.domain(ctx), handle)
	if handle != "" && !mentions(text, handle, c.domain(ctx)) {
		text = "@" + handle + " " + text
	}
	return text, visibility
}

// mentions reports whether text already mentions handle (user@domain):
// in full, or as @user when the user is local to our server.
func mentions(text, handle, ourDomain string) bool {
	user, dom, _ := strings.Cut(handle, "@")
	alts := []string{regexp.QuoteMeta(handle)}
	if dom == "" || strings.EqualFold(dom, ourDomain) {
		alts = append(alts, regexp.QuoteMeta(user))
	}
	re := regexp.MustCompile(`(?i)(?:^|[^\w/@])@(?:` + strings.Join(alts, "|") + `)(?:$|[^@\w.-]|\.(?:\s|$))`)
	return re.MatchString(text)
}

// Send posts an approved draft and returns the new status's id. A reply
// (out.InReplyTo set) answers out.InReplyTo.ExternalID with the same
// visibility as that post and mentions its author; a prompt (InReplyTo
// nil) is a direct message to out.To. The request carries
// Idempotency-Key: out.Draft.IdempotencyKey(), so the server posts once
// however often Send is retried within its idempotency window (an hour on
// Mastodon); on a retry (Draft.Attempts > 1) Send first looks in the
// thread for a reply of ours with the same text, which covers longer gaps.
//
// Errors: EUNAVAILABLE (network, 5xx, 429: retry later); EINVALID (the
// server refused the content or the token, or the draft is empty);
// ENOTFOUND (the post to answer is gone).
func (c *Connector) Send(ctx context.Context, out parley.Outgoing) (string, error) {
	d := out.Draft
	if strings.TrimSpace(d.Text) == "" {
		return "", parley.Errorf(parley.EINVALID, "mastodon: draft %d has no text", d.ID)
	}
	if out.InReplyTo != nil && strings.TrimSpace(out.InReplyTo.ExternalID) == "" {
		return "", parley.Errorf(parley.EINVALID, "mastodon: draft %d answers a mention without a status id", d.ID)
	}
	if out.InReplyTo == nil && strings.TrimSpace(out.To.Handle) == "" {
		return "", parley.Errorf(parley.EINVALID, "mastodon: prompt draft %d has no recipient handle", d.ID)
	}
	if w := c.lim.blockedFor(); w > maxSendWait {
		return "", parley.Errorf(parley.EUNAVAILABLE, "mastodon: the server is rate limiting us for another %s; draft %d will be retried", w.Round(time.Second), d.ID)
	}
	text, vis := c.Compose(ctx, out)
	toot := &gomastodon.Toot{Status: text, Visibility: vis}
	if out.InReplyTo != nil {
		statusID := c.statusID(out.InReplyTo.ExternalID)
		toot.InReplyToID = gomastodon.ID(statusID)
		if d.Attempts > 1 {
			id, err := c.findOurReply(ctx, statusID, text)
			if err != nil {
				return "", err
			}
			if id != "" {
				c.log.Info("mastodon reply already posted by an earlier attempt; not posting again", "draft_id", d.ID, "status_id", id)
				return id, nil
			}
		}
	}
	if out.InReplyTo == nil && d.Attempts > 1 {
		if id := c.findOurDirect(ctx, strings.TrimPrefix(strings.TrimSpace(out.To.Handle), "@"), text); id != "" {
			c.log.Info("mastodon direct message already posted by an earlier attempt; not posting again", "draft_id", d.ID, "status_id", id)
			return id, nil
		}
	}
	st, err := c.api.mc.PostStatus(withIdempotencyKey(ctx, d.IdempotencyKey()), toot)
	if err != nil {
		what := fmt.Sprintf("posting draft %d", d.ID)
		if out.InReplyTo != nil {
			what = fmt.Sprintf("posting draft %d as a reply to status %s", d.ID, out.InReplyTo.ExternalID)
		}
		return "", classify(what, stripURL(err))
	}
	if st == nil || st.ID == "" {
		return "", parley.Errorf(parley.EUNAVAILABLE, "mastodon: posting draft %d: the server's answer has no status id", d.ID)
	}
	c.log.Info("mastodon status posted", "draft_id", d.ID, "status_id", string(st.ID), "visibility", vis, "in_reply_to", string(toot.InReplyToID))
	return string(st.ID), nil
}

// findOurReply looks through the replies to statusID for one of ours with
// text; it returns its id, or "" when there is none. ENOTFOUND when the
// status is gone; other failures are ignored (the Idempotency-Key still
// guards the post).
func (c *Connector) findOurReply(ctx context.Context, statusID, text string) (string, error) {
	self, err := c.account(ctx)
	if err != nil {
		return "", nil
	}
	var thread struct {
		Descendants []apiStatus `json:"descendants"`
	}
	err = c.api.getJSON(ctx, "/api/v1/statuses/"+url.PathEscape(statusID)+"/context", nil, &thread)
	if err != nil {
		if ce := classify("reading the thread", err); parley.ErrorCode(ce) == parley.ENOTFOUND {
			return "", parley.Errorf(parley.ENOTFOUND, "mastodon: status %s to answer is gone: %w", statusID, err)
		}
		c.log.Warn("mastodon: cannot read the thread to check for an earlier reply; relying on the Idempotency-Key", "status_id", statusID, "err", err)
		return "", nil
	}
	want := fingerprint(text)
	for _, s := range thread.Descendants {
		if s.Account.ID == self.ID && string(s.InReplyToID) == statusID && fingerprint(HTMLToText(s.Content)) == want {
			return string(s.ID), nil
		}
	}
	return "", nil
}

// ownRecentStatuses is how many of our newest statuses findOurDirect reads
// (one page: Mastodon's largest).
const ownRecentStatuses = 40

// findOurDirect looks through our newest statuses for a direct message to
// handle with text (a prompt an earlier attempt posted before a crash,
// which the server's Idempotency-Key no longer covers after an hour); it
// returns its id, or "". Failures are logged and ignored: the
// Idempotency-Key still guards the post.
func (c *Connector) findOurDirect(ctx context.Context, handle, text string) string {
	self, err := c.account(ctx)
	if err != nil {
		return ""
	}
	var sts []apiStatus
	q := url.Values{"limit": {strconv.Itoa(ownRecentStatuses)}}
	if err := c.api.getJSON(ctx, "/api/v1/accounts/"+url.PathEscape(string(self.ID))+"/statuses", q, &sts); err != nil {
		c.log.Warn("mastodon: cannot read our recent statuses to check for an earlier direct message; relying on the Idempotency-Key", "err", err)
		return ""
	}
	want, domain := fingerprint(text), c.domain(ctx)
	for _, s := range sts {
		if s.Visibility != "direct" || s.InReplyToID != "" || fingerprint(HTMLToText(s.Content)) != want {
			continue
		}
		for _, m := range s.Mentions {
			if sameAccount(m.Acct, handle, domain) {
				return string(s.ID)
			}
		}
	}
	return ""
}

var fpMentionRE = regexp.MustCompile(`@[\w.-]+(@[\w.-]+)?`)

// fingerprint reduces a text to what survives the server's rendering:
// without mentions (rendered as @user), white space or case.
func fingerprint(s string) string {
	s = fpMentionRE.ReplaceAllString(s, "")
	return strings.ToLower(textutil.OneLine(s))
}

// MaxTextLength implements parley.TextLimiter: the server's
// configuration.statuses.max_characters as read at start (Run reads the
// instance first), else DefaultMaxCharacters. It never calls the server.
func (c *Connector) MaxTextLength() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inst.MaxChars > 0 {
		return c.inst.MaxChars
	}
	return DefaultMaxCharacters
}

// CheckDraft refuses (EINVALID) a draft the server would refuse for its
// length: longer than the server's configuration.statuses.max_characters
// (v2 instance API; v1 max_toot_chars on Akkoma; 500 when neither says),
// counted as Mastodon counts (see CountText). It also refuses an empty
// draft. When the limit cannot be read it lets the draft pass (the server
// still refuses it at Send, and nothing is truncated).
func (c *Connector) CheckDraft(ctx context.Context, d parley.Draft) error {
	if strings.TrimSpace(d.Text) == "" {
		return parley.Errorf(parley.EINVALID, "draft %d is empty", d.ID)
	}
	inst, err := c.instance(ctx)
	if err != nil {
		c.log.Warn("mastodon: cannot read the server's character limit; not checking the draft's length", "draft_id", d.ID, "err", err)
	}
	limit := inst.MaxChars
	if limit <= 0 {
		if err != nil {
			return nil
		}
		limit = DefaultMaxCharacters
	}
	if n := CountText(d.Text); n > limit {
		return parley.Errorf(parley.EINVALID, "draft %d is %d characters long; %s allows at most %d per post (links count as %d, @mentions without their domain); shorten it, Parley does not cut replies", d.ID, n, inst.Domain, limit, URLLength)
	}
	return nil
}

// PostDirect sends text as a direct message to the account acct (the
// weekly digest, say). key is sent as the Idempotency-Key, so a retry
// posts once. Errors as Send.
func (c *Connector) PostDirect(ctx context.Context, acct, text, key string) (string, error) {
	acct = strings.TrimPrefix(strings.TrimSpace(acct), "@")
	if acct == "" || strings.TrimSpace(text) == "" {
		return "", parley.Errorf(parley.EINVALID, "mastodon: a direct message needs an account and a text")
	}
	if w := c.lim.blockedFor(); w > maxSendWait {
		return "", parley.Errorf(parley.EUNAVAILABLE, "mastodon: the server is rate limiting us for another %s", w.Round(time.Second))
	}
	// Mastodon delivers a direct post to everyone it mentions: the text
	// (a digest quoting customers) mentions nobody but acct.
	text = quoteMentions(strings.TrimSpace(text), c.domain(ctx), acct)
	toot := &gomastodon.Toot{Status: "@" + acct + " " + text, Visibility: "direct"}
	st, err := c.api.mc.PostStatus(withIdempotencyKey(ctx, key), toot)
	if err != nil {
		return "", classify("sending a direct message to @"+acct, stripURL(err))
	}
	if st == nil || st.ID == "" {
		return "", parley.Errorf(parley.EUNAVAILABLE, "mastodon: the server's answer has no status id")
	}
	return string(st.ID), nil
}
