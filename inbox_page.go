package parley

import (
	"context"
	"time"
)

// ViewUnassigned is the conversations needing a reply that nobody looks
// after.
const ViewUnassigned ConversationView = "unassigned"

// InboxViews are the views the inbox offers, in the order it shows them.
var InboxViews = []ConversationView{ViewNeedsReply, ViewMine, ViewUnassigned, ViewAll, ViewClosed}

// InboxQuery selects one page of the inbox: one row per conversation.
// The zero value is the first page of the needs-reply view.
//
// Needs-reply, mine and unassigned hold the conversations that need a
// reply now (a reply approved and on its way takes one out), most urgent
// first: the priority of the customer's newest message, a negative one
// before others, the longest waiting since the customer's post, the
// author's reach. All and closed are newest message first.
type InboxQuery struct {
	View ConversationView
	// User is who asks (for the mine view).
	User string
	// Text holds words (all must appear in one message), @handle (a
	// message's author's handle starts with it) and #tag (a message
	// carries the hashtag), as MentionQuery.
	Text     string
	Platform string
	// Sentiment is the label of the customer's newest message.
	Sentiment Label
	// Tag and Rule: a message of the conversation carries the tag, or
	// matched the rule.
	Tag, Rule string
	// Assignee is a user name, or "-" for nobody.
	Assignee string
	// Since and Until bound when a customer's message of the
	// conversation was posted; zero leaves that end open.
	Since, Until time.Time
	// Overdue, when positive, keeps those whose customer has waited
	// longer than it for a reply.
	Overdue time.Duration
	// After is the cursor of the page before (InboxPage.Next); "" is
	// the first page.
	After string
	Limit int // 0 means 50, at most 500
	// Now judges snoozes and overdue; zero means the store's clock.
	Now time.Time
}

// InboxRow is one conversation in the inbox with its customer's newest
// message (whose Author is who the row shows).
type InboxRow struct {
	Conversation Conversation
	Last         Mention
}

// InboxPage is one page of the inbox.
type InboxPage struct {
	Rows []InboxRow
	// Next is the cursor of the next page; "" when this is the last.
	Next string
	// Counts is how many conversations each of InboxViews holds with
	// the query's filters (not just this page): exact, unless More says
	// it is a lower bound (a filtered count stops at a cap, so it costs
	// little however many conversations there are).
	Counts map[ConversationView]int
	More   map[ConversationView]bool
	// Partial says the search matched more messages than the inbox reads
	// for one page (the newest InboxSearchCap): Rows and Counts are of
	// the conversations of those, and a narrower search finds older ones.
	Partial bool
}

// InboxSearchCap is the most matching messages an inbox search reads,
// newest first: a word common to a tenth of a million messages would
// otherwise cost every page a look at each of them.
const InboxSearchCap = 1000

// Inbox lists conversations for people, a page at a time (keyset
// pagination: a page holds no duplicate and skips nothing that did not
// change between pages). Errors: EINVALID for an unknown view, a bad
// cursor, or the mine view without a user.
type Inbox interface {
	InboxPage(ctx context.Context, q InboxQuery) (InboxPage, error)
	// InboxVersion changes whenever what an inbox page shows may have
	// changed (a message arrived, a draft or a conversation changed), so
	// a live page knows when to look again.
	InboxVersion(ctx context.Context) (string, error)
	// NeedsReplyCount counts the conversations the needs-reply view
	// holds now, up to most (counting stops there, so it stays cheap
	// however long the queue).
	NeedsReplyCount(ctx context.Context, most int) (int, error)
}
