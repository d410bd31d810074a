package parley

import "context"

// Sink accepts mentions into the pipeline.
type Sink interface {
	// Submit hands m to the pipeline. It blocks while the pipeline is full
	// and returns ctx.Err() if ctx ends first. Once Submit returns nil the
	// mention is accepted: a graceful shutdown stores it (or counts it as a
	// duplicate) before the pipeline's Close returns.
	Submit(ctx context.Context, m Mention) error
}

// Checkpointer is a Sink that saves a source's cursor in order with the
// mentions: a cursor handed to Checkpoint is saved only once every mention
// submitted before it is stored. A process killed with mentions still in
// memory then restarts from before them (they are read again; duplicates
// are dropped) instead of after them.
type Checkpointer interface {
	// Checkpoint queues the save of value under key, behind the mentions
	// submitted so far. It blocks while the sink is full and returns
	// ctx.Err() if ctx ends first; EUNAVAILABLE once the sink is closing
	// (the cursor is then not saved, which loses nothing).
	Checkpoint(ctx context.Context, key, value string) error
}

// SaveCursor saves a source's cursor after the mentions it handed to sink:
// through sink when it is a Checkpointer, else at once in store (a sink
// that stores each mention before Submit returns).
func SaveCursor(ctx context.Context, sink Sink, store CursorStore, key, value string) error {
	if cp, ok := sink.(Checkpointer); ok {
		return cp.Checkpoint(ctx, key, value)
	}
	return store.SetCursor(ctx, key, value)
}

// Source produces mentions: a platform connector or a replay file.
type Source interface {
	// Run delivers mentions to sink until ctx ends (it then returns nil or
	// ctx.Err()) or the source is exhausted (nil). Errors on single
	// messages are logged and skipped; Run returns an error only when the
	// source cannot go on.
	Run(ctx context.Context, sink Sink) error
}

// Outgoing is one approved draft on its way to a platform.
type Outgoing struct {
	Draft Draft
	// InReplyTo is the mention the draft answers; nil for a prompt, which
	// goes to To by direct message.
	InReplyTo *Mention
	To        Person
}

// Sender posts approved drafts to one platform.
type Sender interface {
	// Platform is the platform this sender posts to ("mastodon", ...).
	Platform() string
	// Send posts out.Draft and returns the platform's id of the new post.
	// It passes out.Draft.IdempotencyKey() to the platform, so calling it
	// again for the same draft after a crash posts once. Errors: EUNAVAILABLE
	// when a retry may succeed (network, 5xx, 429); EINVALID when the
	// platform refused the content (not retried); ENOTFOUND when the post or
	// person to answer is gone.
	Send(ctx context.Context, out Outgoing) (postedID string, err error)
}

// AccountSender is implemented by senders that post as one of several
// accounts on their platform; the outbox sends a reply through the sender
// whose Account matches the mention's.
type AccountSender interface {
	Sender
	Account() string
}

// TextLimiter is implemented by senders that know how many characters a
// post may have on their platform (the editor's counter shows it).
type TextLimiter interface {
	// MaxTextLength is the limit as last known; it never blocks.
	MaxTextLength() int
}

// DraftChecker is implemented by senders that can tell at approval time
// that a draft will be refused (too long for the server, say).
type DraftChecker interface {
	// CheckDraft returns an EINVALID error saying what is wrong, or nil.
	CheckDraft(ctx context.Context, d Draft) error
}
