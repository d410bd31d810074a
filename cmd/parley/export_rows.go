package main

import (
	"strconv"
	"strings"
	"time"

	"github.com/parleybot/parley"
)

// The CSV columns of each export kind; JSON lines carry the same fields
// under the names the JSON output of other commands uses.
var (
	mentionHeader = []string{"id", "platform", "account", "external_id", "person_id", "author_handle", "author_name",
		"thread_id", "created_at", "received_at", "in_reply_to", "url", "channel", "visibility", "lang", "direct",
		"sentiment", "score", "confidence", "model", "priority", "tags", "rules", "ignored", "text"}
	conversationHeader = []string{"id", "platform", "channel", "state", "assignee", "snoozed_until", "messages",
		"last_mention_id", "person_id", "first_message_at", "last_message_at", "waiting_since", "first_response_at",
		"last_response_at", "pending_draft_id"}
	draftHeader = []string{"id", "kind", "state", "platform", "mention_id", "person_id", "thread_id", "rule", "priority",
		"auto_approve", "created_at", "updated_at", "decided_by", "decided_at", "sent_at", "posted_id", "attempts",
		"last_error", "written_by", "text", "original_text"}
	personHeader = []string{"id", "platform", "external_id", "handle", "name", "followers", "nobot", "timezone",
		"first_seen", "last_seen", "mentions", "positive", "negative", "neutral", "last_sentiment", "replies_sent",
		"opted_out", "advocate_state", "advocate_score"}
)

func mentionRecord(m parley.Mention) []string {
	return []string{csvID(m.ID), m.Platform, m.Account, m.ExternalID, csvID(m.PersonID), m.Author.Handle, m.Author.Name,
		csvID(m.ThreadID), csvTime(m.CreatedAt), csvTime(m.ReceivedAt), m.InReplyTo, m.URL, m.Channel, m.Visibility, m.Lang,
		strconv.FormatBool(m.Direct), string(m.Sentiment.Label), csvFloat(m.Sentiment.Score),
		csvFloat(m.Sentiment.Confidence), m.Sentiment.Model, strconv.Itoa(m.Priority), strings.Join(m.Tags, " "),
		strings.Join(m.Rules, " "), strconv.FormatBool(m.Ignored), m.Text}
}

func conversationRecord(c parley.Conversation) []string {
	return []string{csvID(c.ID), c.Platform, c.Channel, string(c.State), c.Assignee, csvTime(c.SnoozedUntil),
		strconv.Itoa(c.Messages), csvID(c.LastMentionID), csvID(c.PersonID), csvTime(c.FirstMessageAt), csvTime(c.LastMessageAt),
		csvTime(c.WaitingSince), csvTime(c.FirstResponseAt), csvTime(c.LastResponseAt), csvID(c.PendingDraftID)}
}

func draftRecord(d parley.Draft) []string {
	return []string{csvID(d.ID), d.Kind, string(d.State), d.Platform, csvID(d.MentionID), csvID(d.PersonID), csvID(d.ThreadID), d.Rule,
		strconv.Itoa(d.Priority), strconv.FormatBool(d.AutoApprove), csvTime(d.CreatedAt), csvTime(d.UpdatedAt), d.DecidedBy,
		csvTime(d.DecidedAt), csvTime(d.SentAt), d.PostedID, strconv.Itoa(d.Attempts), d.LastError, d.WrittenBy, d.Text,
		d.OriginalText}
}

func personRecord(p parley.Person) []string {
	return []string{csvID(p.ID), p.Platform, p.ExternalID, p.Handle, p.Name, strconv.Itoa(p.Followers),
		strconv.FormatBool(p.NoBot), p.TimeZone, csvTime(p.FirstSeen), csvTime(p.LastSeen), strconv.Itoa(p.Mentions),
		strconv.Itoa(p.Positive), strconv.Itoa(p.Negative), strconv.Itoa(p.Neutral), string(p.LastSentiment),
		strconv.Itoa(p.RepliesSent), strconv.FormatBool(p.OptedOut), p.AdvocateState, csvFloat(p.AdvocateScore)}
}

// csvID writes an id, "" for none.
func csvID(v int64) string {
	if v == 0 {
		return ""
	}
	return strconv.FormatInt(v, 10)
}

// csvTime writes a time in UTC, RFC 3339 with milliseconds; "" for none.
func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

func csvFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
