package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/parleybot/parley"
)

var _ parley.MentionSearcher = (*Store)(nil)

// SearchMentions implements parley.MentionSearcher on the mentions_fts
// index: words and #tags go to FTS5 (each quoted, so no query syntax
// leaks in), @handles and the date range filter the rows.
func (s *Store) SearchMentions(ctx context.Context, q parley.MentionQuery) ([]parley.Mention, error) {
	where, args := mentionMatch(q, "m", "p")
	if len(where) == 0 {
		return nil, parley.Errorf(parley.EINVALID, "search for what? give words, @handle, #tag or a date range")
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	args = append(args, limit)
	found, err := s.queryMentions(ctx, `SELECT `+mentionColumns+` FROM mentions m JOIN people p ON p.id = m.person_id
		WHERE `+strings.Join(where, " AND ")+` ORDER BY m.created_at DESC, m.id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("search mentions: %w", err)
	}
	return found, nil
}

// mentionMatch turns q's text and date range into conditions on the
// mentions table (alias m) joined with its authors (alias p), with their
// positional arguments; none for an empty query.
func mentionMatch(q parley.MentionQuery, m, p string) ([]string, []any) {
	t := mentionTerms(q, m, p)
	if t.fts == "" {
		return t.where, t.args
	}
	where := append([]string{m + ".id IN (SELECT rowid FROM mentions_fts WHERE mentions_fts MATCH ?)"}, t.where...)
	return where, append([]any{t.fts}, t.args...)
}

// searchTerms is a search split by what can find it: the FTS5 query of
// its words (and the words of its #tags), and conditions on mentions m
// and their authors p (handles, hashtags, dates) with their arguments.
type searchTerms struct {
	fts    string
	where  []string
	args   []any
	handle bool // a condition is on an @handle
}

func mentionTerms(q parley.MentionQuery, m, p string) searchTerms {
	var t searchTerms
	var words []string
	for _, term := range strings.Fields(q.Text) {
		switch {
		case strings.HasPrefix(term, "@") && len(term) > 1:
			// The people_handle_nocase index serves this prefix match.
			t.where = append(t.where, p+".handle LIKE ? ESCAPE '\\'")
			t.args = append(t.args, likePrefix(strings.TrimPrefix(term, "@")))
			t.handle = true
		case strings.HasPrefix(term, "#") && len(term) > 1:
			words = append(words, ftsQuote(term[1:]))
			t.where = append(t.where, "instr(lower("+m+".text), lower(?)) > 0")
			t.args = append(t.args, term)
		default:
			words = append(words, ftsQuote(term))
		}
	}
	t.fts = strings.Join(words, " ")
	if !q.Since.IsZero() {
		t.where = append(t.where, m+".created_at >= ?")
		t.args = append(t.args, ms(q.Since))
	}
	if !q.Until.IsZero() {
		t.where = append(t.where, m+".created_at < ?")
		t.args = append(t.args, ms(q.Until))
	}
	return t
}

// ftsQuote makes a term one FTS5 string (a phrase of its tokens).
func ftsQuote(term string) string { return `"` + strings.ReplaceAll(term, `"`, `""`) + `"` }

// likePrefix is a LIKE pattern for values starting with v.
func likePrefix(v string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(v) + "%"
}
