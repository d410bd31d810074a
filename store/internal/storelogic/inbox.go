package storelogic

import (
	"slices"
	"strconv"
	"strings"

	"github.com/parleybot/parley"
)

// InboxSearchCap is parley.InboxSearchCap.
const InboxSearchCap = parley.InboxSearchCap

// InboxCountCap is where the counts of a filtered inbox stop: beyond it a
// count is told as "at least" (parley.InboxPage.More).
const InboxCountCap = 1000

// InboxLimit is the page size a query asks for: 50 by default, at most
// 500.
func InboxLimit(n int) int {
	if n <= 0 {
		return 50
	}
	return min(n, 500)
}

// InboxView is the view a query asks for; needs-reply by default.
func InboxView(q parley.InboxQuery) parley.ConversationView {
	if q.View == "" {
		return parley.ViewNeedsReply
	}
	return q.View
}

// Urgent reports whether view lists most urgent first (else newest).
func Urgent(view parley.ConversationView) bool {
	return view == parley.ViewNeedsReply || view == parley.ViewMine || view == parley.ViewUnassigned
}

// Searches reports whether q looks for messages (words, handles, tags
// in the text, dates), which the store answers from a match set.
func Searches(q parley.InboxQuery) bool {
	return strings.TrimSpace(q.Text) != "" || !q.Since.IsZero() || !q.Until.IsZero()
}

// MatchedConversations turns the conversations of matching messages,
// newest message first and with repeats, into a set in that order; the
// last one is dropped when there are more than InboxSearchCap messages
// (the store asks for one more to know), and partial says so.
func MatchedConversations(threads []int64) (ids []int64, partial bool) {
	if len(threads) > InboxSearchCap {
		threads, partial = threads[:InboxSearchCap], true
	}
	seen := make(map[int64]bool, len(threads))
	for _, id := range threads {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids, partial
}

// InboxCounts holds what a store counted for a page: the needs-reply
// views (one walk of the open conversations) and all with its closed
// part (another), each walk perhaps stopped at InboxCountCap.
type InboxCounts struct {
	Needs, Mine, Unassigned int
	// NeedsMore says the walk of the open conversations stopped early.
	NeedsMore bool
	All       int
	Closed    int
	AllMore   bool
	AskedMine bool // the query had a user, so Mine means something
	Partial   bool // the counts are of a partial match set
}

// Page writes the counts into a page: Counts and More.
func (c InboxCounts) Page(p *parley.InboxPage) {
	p.Counts = map[parley.ConversationView]int{parley.ViewNeedsReply: c.Needs, parley.ViewUnassigned: c.Unassigned,
		parley.ViewAll: c.All, parley.ViewClosed: c.Closed}
	if c.AskedMine {
		p.Counts[parley.ViewMine] = c.Mine
	}
	p.More = map[parley.ConversationView]bool{}
	for v := range p.Counts {
		more := c.Partial
		if Urgent(v) {
			more = more || c.NeedsMore
		} else {
			more = more || c.AllMore
		}
		if more {
			p.More[v] = true
		}
	}
}

// CappedCount reads a count taken with LIMIT InboxCountCap+1: the count
// up to the cap, and whether it went past.
func CappedCount(n int) (int, bool) {
	if n > InboxCountCap {
		return InboxCountCap, true
	}
	return n, false
}

// FormatCursor writes a page's last sort keys as a cursor.
func FormatCursor(keys []int64) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = strconv.FormatInt(k, 10)
	}
	return strings.Join(parts, ".")
}

// ParseCursor reads a cursor of n keys.
func ParseCursor(s string, n int) ([]any, error) {
	parts := strings.Split(s, ".")
	if len(parts) != n {
		return nil, parley.Errorf(parley.EINVALID, "page cursor %q is not one of this view's (follow the Next link again from the first page)", s)
	}
	out := make([]any, n)
	for i, p := range parts {
		v, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return nil, parley.Errorf(parley.EINVALID, "page cursor %q: %q is not a number", s, p)
		}
		out[i] = v
	}
	return out, nil
}

// SortedIDs is ids sorted without repeats (a copy).
func SortedIDs(ids []int64) []int64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}
