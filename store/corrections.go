package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parleybot/parley"
)

// Correction is a person's verdict on a mention's sentiment.
type Correction = parley.Correction

// CorrectSentiment sets a mention's sentiment to label on a person's
// word. The correction wins everywhere the label is read (it is written
// into the mention, and the author's counts follow); what the model said
// and who corrected it are kept. Errors: ENOTFOUND, EINVALID for an empty
// actor or a bad label.
func (s *Store) CorrectSentiment(ctx context.Context, mentionID int64, label parley.Label, actor string) (parley.Mention, error) {
	r, err := s.CorrectSentimentAndRedecide(ctx, mentionID, label, actor, nil)
	return r.Mention, err
}

// checkCorrection checks a correction's label and actor.
func checkCorrection(mentionID int64, label parley.Label, actor string) error {
	if !label.Valid() {
		return parley.Errorf(parley.EINVALID, "sentiment %q: want negative, neutral or positive", label)
	}
	if strings.TrimSpace(actor) == "" {
		return parley.Errorf(parley.EINVALID, "correct mention %d: who is correcting? (actor is empty)", mentionID)
	}
	return nil
}

// correctTx writes a correction inside tx: the correction row, the
// mention's label, the author's counts and the audit entry.
func (s *Store) correctTx(ctx context.Context, tx *sql.Tx, mentionID int64, label parley.Label, actor string) error {
	var current string
	var personID, created int64
	err := tx.QueryRowContext(ctx, `SELECT sentiment, person_id, created_at FROM mentions WHERE id = ?`, mentionID).
		Scan(&current, &personID, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return parley.Errorf(parley.ENOTFOUND, "mention %d not found", mentionID)
	}
	if err != nil {
		return dbError("correct sentiment", err)
	}
	// The model's label is the one before the first correction.
	model := current
	err = tx.QueryRowContext(ctx, `SELECT model_label FROM sentiment_corrections WHERE mention_id = ? ORDER BY at, id LIMIT 1`,
		mentionID).Scan(&model)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return dbError("correct sentiment", err)
	}
	now := s.now().UnixMilli()
	score := map[parley.Label]float64{parley.Negative: -1, parley.Neutral: 0, parley.Positive: 1}[label]
	stmts := []struct {
		q    string
		args []any
	}{
		{`INSERT INTO sentiment_corrections (mention_id, model_label, label, actor, at) VALUES (?, ?, ?, ?, ?)`,
			[]any{mentionID, model, string(label), actor, now}},
		{`UPDATE mentions SET sentiment = ?, score = ?, confidence = 1, model = 'corrected' WHERE id = ?`,
			[]any{string(label), score, mentionID}},
		{`UPDATE people SET
			positive = positive - (? = 'positive') + (? = 'positive'),
			negative = negative - (? = 'negative') + (? = 'negative'),
			neutral = neutral - (? = 'neutral') + (? = 'neutral'),
			last_sentiment = CASE WHEN last_seen <= ? THEN ? ELSE last_sentiment END
			WHERE id = ?`,
			[]any{current, string(label), current, string(label), current, string(label), created, string(label), personID}},
		{`INSERT INTO audit (at, actor, action, person_id, detail) VALUES (?, ?, 'correct-sentiment', ?, ?)`,
			[]any{now, actor, personID, fmt.Sprintf("mention %d: %s -> %s", mentionID, current, label)}},
	}
	for _, st := range stmts {
		if _, err := tx.ExecContext(ctx, st.q, st.args...); err != nil {
			return dbError("correct sentiment", err)
		}
	}
	return nil
}

// Corrections returns every sentiment correction, the latest per mention,
// oldest first: the material to retrain the classifier on a brand's voice.
func (s *Store) Corrections(ctx context.Context) ([]Correction, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT c.id, c.mention_id, m.text,
		(SELECT f.model_label FROM sentiment_corrections f WHERE f.mention_id = c.mention_id ORDER BY f.at, f.id LIMIT 1),
		c.label, c.actor, c.at
		FROM sentiment_corrections c JOIN mentions m ON m.id = c.mention_id
		WHERE c.id = (SELECT l.id FROM sentiment_corrections l WHERE l.mention_id = c.mention_id ORDER BY l.at DESC, l.id DESC LIMIT 1)
		ORDER BY c.at, c.id`)
	if err != nil {
		return nil, fmt.Errorf("corrections: %w", err)
	}
	defer rows.Close()
	var out []Correction
	for rows.Next() {
		var c Correction
		var model, label string
		var at int64
		if err := rows.Scan(&c.ID, &c.MentionID, &c.Text, &model, &label, &c.Actor, &at); err != nil {
			return nil, err
		}
		c.ModelLabel, c.Label, c.At = parley.Label(model), parley.Label(label), fromMS(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

// CorrectionStats counts the corrections made in [from, to) and how many
// disagreed with the model (the digest reports it).
func (s *Store) CorrectionStats(ctx context.Context, from, to time.Time) (total, disagreed int, err error) {
	err = s.rdb.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(label != model_label), 0)
		FROM sentiment_corrections WHERE at >= ? AND at < ?`, ms(from), ms(to)).Scan(&total, &disagreed)
	if err != nil {
		return 0, 0, fmt.Errorf("correction stats: %w", err)
	}
	return total, disagreed, nil
}
