package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"

	"github.com/parleybot/parley"
)

// Busiest returns the person with the most mentions and the thread with
// the most mentions (0 when there are none): the heaviest history and
// thread reads, which the benchmark times.
func (s *Store) Busiest(ctx context.Context) (person, thread int64, err error) {
	err = s.rdb.QueryRowContext(ctx, `SELECT
		coalesce((SELECT person_id FROM mentions GROUP BY person_id ORDER BY count(*) DESC LIMIT 1), 0),
		coalesce((SELECT thread_id FROM mentions GROUP BY thread_id ORDER BY count(*) DESC LIMIT 1), 0)`).Scan(&person, &thread)
	if err != nil {
		return 0, 0, dbError("busiest person and thread", err)
	}
	return person, thread, nil
}

// BaselineInsert writes mentions and their authors into a fresh database
// at path with this store's schema, as plainly as SQLite allows: multi-row
// INSERTs of 64 rows, 512 mentions a transaction, an author upsert per
// mention, ids kept in memory, foreign keys off, no classifier, no rules.
// It is the yardstick the benchmark compares the pipeline with. next
// returns the mentions one by one (false when there are no more); it may
// sleep to pace them.
func BaselineInsert(ctx context.Context, path string, next func() (parley.Mention, bool)) error {
	st, err := Open(ctx, path, Options{})
	if err != nil {
		return err
	}
	if err := st.Close(); err != nil {
		return err
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "cache_size(-32768)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	db.SetMaxOpenConns(1)
	b, err := newBaseline(ctx, db)
	if err != nil {
		return err
	}
	defer b.close()
	for {
		m, ok := next()
		if !ok {
			break
		}
		if err := b.add(ctx, m); err != nil {
			return err
		}
	}
	if len(b.mArgs) > 0 {
		return b.flush(ctx)
	}
	return nil
}

const baselineRows, baselineBatch = 64, 512

var (
	baselineMentionCols = []string{"id", "platform", "account", "external_id", "person_id", "thread_id", "text", "created_at",
		"received_at", "in_reply_to", "url", "channel", "visibility", "lang", "direct", "sentiment"}
	baselinePersonCols = []string{"id", "platform", "external_id", "handle", "name", "followers", "first_seen", "last_seen", "mentions"}
)

const (
	baselinePeople   = "INSERT INTO people"
	baselineMentions = "INSERT OR IGNORE INTO mentions"
	baselinePersonUp = ` ON CONFLICT (id) DO UPDATE SET handle = excluded.handle, name = excluded.name,
		followers = excluded.followers, last_seen = excluded.last_seen, mentions = people.mentions + 1`
)

// baseline is BaselineInsert's state: prepared statements, the ids it
// handed out and the rows waiting for the next transaction.
type baseline struct {
	db          *sql.DB
	stmts       map[string]*sql.Stmt
	people      map[[2]string]int64
	threads     map[[2]string]int64
	nextMention int64
	nextThread  int64
	mArgs       []any
	pArgs       []any
}

func baselineSQL(head string, cols []string, rows int, tail string) string {
	row := "(" + strings.Repeat("?,", len(cols)-1) + "?)"
	return head + " (" + strings.Join(cols, ", ") + ") VALUES " + strings.Repeat(row+",", rows-1) + row + tail
}

// newBaseline prepares the statements before the first transaction: the
// pool has one connection, which a transaction holds.
func newBaseline(ctx context.Context, db *sql.DB) (*baseline, error) {
	b := &baseline{db: db, stmts: map[string]*sql.Stmt{}, people: map[[2]string]int64{}, threads: map[[2]string]int64{}}
	for _, t := range []struct {
		head string
		cols []string
		tail string
	}{{baselinePeople, baselinePersonCols, baselinePersonUp}, {baselineMentions, baselineMentionCols, ""}} {
		for _, rows := range []int{baselineRows, 1} {
			q := baselineSQL(t.head, t.cols, rows, t.tail)
			s, err := db.PrepareContext(ctx, q)
			if err != nil {
				b.close()
				return nil, fmt.Errorf("raw inserts: %w", err)
			}
			b.stmts[q] = s
		}
	}
	return b, nil
}

func (b *baseline) close() {
	for _, s := range b.stmts {
		_ = s.Close() // read-only use ends here; nothing to report
	}
}

func (b *baseline) add(ctx context.Context, m parley.Mention) error {
	pk := [2]string{m.Platform, m.Author.ExternalID}
	pid, ok := b.people[pk]
	if !ok {
		pid = int64(len(b.people) + 1)
		b.people[pk] = pid
	}
	tid, ok := b.threads[[2]string{m.Platform, m.InReplyTo}]
	if m.InReplyTo == "" || !ok {
		b.nextThread++
		tid = b.nextThread
	}
	b.threads[[2]string{m.Platform, m.ExternalID}] = tid
	b.nextMention++
	ca := m.CreatedAt.UnixMilli()
	b.pArgs = append(b.pArgs, pid, m.Platform, m.Author.ExternalID, m.Author.Handle, m.Author.Name, m.Author.Followers, ca, ca, 1)
	b.mArgs = append(b.mArgs, b.nextMention, m.Platform, m.Account, m.ExternalID, pid, tid, m.Text, ca,
		m.ReceivedAt.UnixMilli(), m.InReplyTo, m.URL, m.Channel, m.Visibility, m.Lang, 0, "neutral")
	if len(b.mArgs)/len(baselineMentionCols) >= baselineBatch {
		return b.flush(ctx)
	}
	return nil
}

func (b *baseline) flush(ctx context.Context) error {
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := b.exec(ctx, tx, baselinePeople, baselinePersonCols, baselinePersonUp, b.pArgs); err != nil {
		return fmt.Errorf("raw people: %w", err)
	}
	if err := b.exec(ctx, tx, baselineMentions, baselineMentionCols, "", b.mArgs); err != nil {
		return fmt.Errorf("raw mentions: %w", err)
	}
	b.mArgs, b.pArgs = b.mArgs[:0], b.pArgs[:0]
	return tx.Commit()
}

func (b *baseline) exec(ctx context.Context, tx *sql.Tx, head string, cols []string, tail string, args []any) error {
	width := len(cols)
	for len(args) > 0 {
		rows := min(baselineRows, len(args)/width)
		if rows < baselineRows {
			rows = 1
		}
		s := b.stmts[baselineSQL(head, cols, rows, tail)]
		if _, err := tx.StmtContext(ctx, s).ExecContext(ctx, args[:rows*width]...); err != nil {
			return err
		}
		args = args[rows*width:]
	}
	return nil
}

// KeepOpen leaves the open newest conversations needing a reply and closes
// every older one, as if the team had answered them: the benchmark's
// picture of a busy inbox (a million mentions, ten thousand open). It
// writes no audit entries (nobody decided anything); the closed ones'
// pending drafts count as rejected. It returns how many it closed.
func (s *Store) KeepOpen(ctx context.Context, open int) (int64, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, dbError("keep open", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE conversations SET state = 'closed', waiting_since = 0
		WHERE state IN ('needs_reply', 'snoozed') AND id NOT IN (SELECT id FROM conversations
			WHERE state IN ('needs_reply', 'snoozed') ORDER BY last_message_at DESC, id DESC LIMIT ?)`, open)
	if err != nil {
		return 0, dbError("keep open", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, dbError("keep open", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE drafts SET state = 'rejected' WHERE state = 'pending'
		AND thread_id IN (SELECT id FROM conversations WHERE state = 'closed')`); err != nil {
		return 0, dbError("keep open", err)
	}
	return n, dbError("keep open", tx.Commit())
}
