package parley

import "context"

// ChangeFeed tells live pages that the store changed, so they need not
// poll it often. A store shared by several processes (PostgreSQL) has one:
// a change committed by any process reaches the pages every process
// serves. A store without it is polled.
type ChangeFeed interface {
	// Changes returns a channel that receives a value soon after any
	// connection, in this process or another, commits a change to drafts
	// or conversations. Several changes may be told as one value, and a
	// value may come without a change (after the feed lost its connection
	// to the database and got it back, when a change may have been
	// missed): a reader looks again at what it shows. The channel is
	// closed when ctx ends or the store closes.
	Changes(ctx context.Context) <-chan struct{}
}
