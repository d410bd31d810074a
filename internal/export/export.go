// Package export writes Parley's stored rows (mentions, conversations,
// drafts, people) as CSV or JSON lines, streaming: `parley export` and the
// web inbox's exports page both use it, so a download and a command give
// the same rows in the same shape.
package export

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parleybot/parley"
)

// Kinds are what can be exported.
var Kinds = []string{"mentions", "conversations", "drafts", "people"}

// Formats are how: CSV with a header row, or JSON lines (one object a
// line, the JSON shape of the root types).
var Formats = []string{"csv", "jsonl"}

// Check returns an EINVALID error for an unknown kind or format.
func Check(kind, format string) error {
	if !slices.Contains(Kinds, kind) {
		return parley.Errorf(parley.EINVALID, "cannot export %q: want mentions, conversations, drafts or people", kind)
	}
	if !slices.Contains(Formats, format) {
		return parley.Errorf(parley.EINVALID, "format %q: want csv or jsonl", format)
	}
	return nil
}

// Write writes every row of kind matching f to w in format, one at a time
// (any number of rows fits), and returns how many it wrote. Errors: those
// of Check, the store's, w's.
func Write(ctx context.Context, st parley.DataExporter, kind, format string, f parley.ExportFilter, w io.Writer) (int, error) {
	if err := Check(kind, format); err != nil {
		return 0, err
	}
	s := &rowSink{}
	if format == "csv" {
		s.csv = csv.NewWriter(w)
	} else {
		s.enc = json.NewEncoder(w)
		s.enc.SetEscapeHTML(false)
	}
	var err error
	switch kind {
	case "mentions":
		err = exportWith(ctx, s, mentionHeader, mentionRecord, f, st.ExportMentions)
	case "conversations":
		err = exportWith(ctx, s, conversationHeader, conversationRecord, f, st.ExportConversations)
	case "drafts":
		err = exportWith(ctx, s, draftHeader, draftRecord, f, st.ExportDrafts)
	case "people":
		err = exportWith(ctx, s, personHeader, personRecord, f, st.ExportPeople)
	}
	if err != nil {
		return s.n, err
	}
	if s.csv != nil {
		s.csv.Flush()
		return s.n, s.csv.Error()
	}
	return s.n, nil
}

// rowSink writes rows as CSV records or JSON lines and counts them.
type rowSink struct {
	csv *csv.Writer
	enc *json.Encoder
	n   int
}

func exportWith[T any](ctx context.Context, s *rowSink, header []string, record func(T) []string, f parley.ExportFilter,
	walk func(context.Context, parley.ExportFilter, func(T) error) error) error {
	if s.csv != nil {
		if err := s.csv.Write(header); err != nil {
			return err
		}
	}
	return walk(ctx, f, func(v T) error {
		s.n++
		if s.csv != nil {
			return s.csv.Write(safeCells(record(v)))
		}
		return s.enc.Encode(v)
	})
}

// safeCells keeps a spreadsheet from running what people wrote: a cell
// that starts with = + - @ (or a tab or carriage return, which some
// spreadsheets skip before looking) is read as a formula, so it gets a
// leading apostrophe. A plain number (a negative score) stays a number.
func safeCells(rec []string) []string {
	for i, c := range rec {
		if c == "" || !strings.ContainsRune("=+-@\t\r", rune(c[0])) {
			continue
		}
		if _, err := strconv.ParseFloat(c, 64); err == nil {
			continue
		}
		rec[i] = "'" + c
	}
	return rec
}

// The CSV columns of each kind; JSON lines carry the same fields under the
// names the JSON output of other commands uses.
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
