package parley

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// Alert kinds: what a real-time alert is about.
const (
	// AlertMentionSpike: far more mentions in the last hour than usual
	// for that hour of the week.
	AlertMentionSpike = "mention_spike"
	// AlertNegativeSpike: the same, counting negative mentions only.
	AlertNegativeSpike = "negative_spike"
	// AlertLargeReach: a negative post by someone with many followers.
	AlertLargeReach = "large_reach_negative"
	// AlertOverdue: a conversation waiting past the response target.
	AlertOverdue = "overdue_conversation"
)

// AlertKinds lists the kinds, in the order people read them.
func AlertKinds() []string {
	return []string{AlertMentionSpike, AlertNegativeSpike, AlertLargeReach, AlertOverdue}
}

// AlertKindTitle is a kind as people read it ("Mention spike").
func AlertKindTitle(kind string) string {
	switch kind {
	case AlertMentionSpike:
		return "Mention spike"
	case AlertNegativeSpike:
		return "Negative spike"
	case AlertLargeReach:
		return "Large-reach negative post"
	case AlertOverdue:
		return "Overdue conversation"
	}
	return kind
}

// Alert is something the team should look at now. Kind and Key say what
// it is about (Key is "all" for a spike, "person:ID" for a large-reach
// post, "conversation:ID:WAITING_SINCE" for an overdue conversation): an
// alert with the same kind and key is not raised again within the
// cooldown.
type Alert struct {
	ID   int64     `json:"id"`
	Kind string    `json:"kind"`
	Key  string    `json:"key"`
	At   time.Time `json:"at"`
	// Title is one line: what happened.
	Title string `json:"title"`
	// Detail says why it fired (the counts and the threshold, the post).
	Detail string `json:"detail,omitempty"`
	// ConversationID, PersonID and MentionID link to what it is about
	// (0 for none).
	ConversationID int64 `json:"conversation_id,omitempty"`
	PersonID       int64 `json:"person_id,omitempty"`
	MentionID      int64 `json:"mention_id,omitempty"`
	// Count and Threshold are a spike's numbers (0 otherwise).
	Count     int     `json:"count,omitempty"`
	Threshold float64 `json:"threshold,omitempty"`
}

// AlertFilter selects alerts: newest first.
type AlertFilter struct {
	Kind string
	// Since and Until bound At ([Since, Until)); zero leaves that end open.
	Since, Until time.Time
	Limit        int // 0 means 100
}

// MentionCount is how many mentions a period holds, and how many of them
// are negative.
type MentionCount struct {
	All, Negative int
}

// AlertStore keeps raised alerts and answers the detectors' questions.
type AlertStore interface {
	// RaiseAlert stores a unless an alert of the same Kind and Key was
	// raised within cooldown before a.At; it returns the stored alert with
	// its ID and true, or a and false when the cooldown suppressed it.
	// Errors: EINVALID for an empty kind or key, or a zero At.
	RaiseAlert(ctx context.Context, a Alert, cooldown time.Duration) (Alert, bool, error)
	// Alerts lists the alerts f selects, newest first.
	Alerts(ctx context.Context, f AlertFilter) ([]Alert, error)
	// AlertCounts counts the alerts raised in [from, to) by kind.
	AlertCounts(ctx context.Context, from, to time.Time) (map[string]int, error)
	// CountMentions counts the mentions created in [from, to).
	CountMentions(ctx context.Context, from, to time.Time) (MentionCount, error)
	// EarliestMention returns when the oldest mention was created, or
	// the zero time when there is none.
	EarliestMention(ctx context.Context) (time.Time, error)
	// NegativeMentionsFrom lists the negative mentions created in [from,
	// to) whose author has at least minFollowers followers, oldest first,
	// with their authors.
	NegativeMentionsFrom(ctx context.Context, from, to time.Time, minFollowers int) ([]Mention, error)
}

// Check refuses an alert that cannot be stored: no kind, no key, no time,
// no title.
func (a Alert) Check() error {
	switch {
	case strings.TrimSpace(a.Kind) == "":
		return Errorf(EINVALID, "an alert needs a kind")
	case strings.TrimSpace(a.Key) == "":
		return Errorf(EINVALID, "alert %s: needs a key (what it is about)", a.Kind)
	case a.At.IsZero():
		return Errorf(EINVALID, "alert %s %s: needs a time", a.Kind, a.Key)
	case strings.TrimSpace(a.Title) == "":
		return Errorf(EINVALID, "alert %s %s: needs a title", a.Kind, a.Key)
	}
	return nil
}

// AlertLimit is f.Limit with its default (100) and cap (1000).
func (f AlertFilter) AlertLimit() int {
	switch {
	case f.Limit <= 0:
		return 100
	case f.Limit > 1000:
		return 1000
	}
	return f.Limit
}

// Path is where the web inbox shows what the alert is about: its
// conversation, else its person, else the inbox.
func (a Alert) Path() string {
	switch {
	case a.ConversationID != 0:
		return "/threads/" + strconv.FormatInt(a.ConversationID, 10)
	case a.PersonID != 0:
		return "/people/" + strconv.FormatInt(a.PersonID, 10)
	}
	return "/"
}
