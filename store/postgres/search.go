package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/parleybot/parley"
)

// SearchMentions implements parley.MentionSearcher on the mentions.search
// tsvector (GIN index): words and #tags become one tsquery of the words'
// lexemes, all required (plainto_tsquery, so no query syntax leaks in);
// @handles and the date range filter the rows.
func (s *Store) SearchMentions(ctx context.Context, q parley.MentionQuery) ([]parley.Mention, error) {
	var words, where []string
	var a args
	for _, term := range strings.Fields(q.Text) {
		switch {
		case strings.HasPrefix(term, "@") && len(term) > 1:
			where = append(where, "p.handle ILIKE "+a.add(likePrefix(strings.TrimPrefix(term, "@")))+` ESCAPE '\'`)
		case strings.HasPrefix(term, "#") && len(term) > 1:
			words = append(words, term[1:])
			where = append(where, "strpos(lower(m.text), lower("+a.add(term)+")) > 0")
		default:
			words = append(words, term)
		}
	}
	if len(words) == 0 && len(where) == 0 && q.Since.IsZero() && q.Until.IsZero() {
		return nil, parley.Errorf(parley.EINVALID, "search for what? give words, @handle, #tag or a date range")
	}
	if len(words) > 0 {
		where = append(where, "m.search @@ plainto_tsquery('simple', "+a.add(strings.Join(words, " "))+")")
	}
	if !q.Since.IsZero() {
		where = append(where, "m.created_at >= "+a.add(ms(q.Since)))
	}
	if !q.Until.IsZero() {
		where = append(where, "m.created_at < "+a.add(ms(q.Until)))
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	found, err := s.queryMentions(ctx, `SELECT `+mentionColumns+` FROM mentions m JOIN people p ON p.id = m.person_id
		WHERE `+strings.Join(where, " AND ")+` ORDER BY m.created_at DESC, m.id DESC LIMIT `+a.add(limit), a...)
	if err != nil {
		return nil, fmt.Errorf("search mentions: %w", err)
	}
	return found, nil
}

// likePrefix is a LIKE pattern for values starting with v.
func likePrefix(v string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(v) + "%"
}
