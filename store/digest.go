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

var _ parley.DigestStore = (*Store)(nil)

const digestColumns = `week, timezone, start_at, end_at, status, owner, claimed_at, built_at, summary`

func scanDigest(row scanner, bodies bool) (parley.DigestRecord, error) {
	var r parley.DigestRecord
	var start, end, claimed, built int64
	dest := []any{&r.Week, &r.TimeZone, &start, &end, &r.Status, &r.Owner, &claimed, &built, &r.Summary}
	if bodies {
		dest = append(dest, &r.Markdown, &r.HTML, &r.Text)
	}
	if err := row.Scan(dest...); err != nil {
		return r, err
	}
	r.Start, r.End, r.ClaimedAt, r.BuiltAt = fromMS(start), fromMS(end), fromMS(claimed), fromMS(built)
	return r, nil
}

// ClaimDigest implements parley.DigestStore. The claim is one write
// transaction (BEGIN IMMEDIATE), so two processes sharing the database
// cannot both take the same week.
func (s *Store) ClaimDigest(ctx context.Context, r parley.DigestRecord, owner string, leaseUntil time.Time, force bool) (parley.DigestRecord, error) {
	if strings.TrimSpace(r.Week) == "" {
		return r, parley.Errorf(parley.EINVALID, "claim digest: the week is empty")
	}
	if strings.TrimSpace(owner) == "" {
		return r, parley.Errorf(parley.EINVALID, "claim digest %s: the owner is empty", r.Week)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return r, dbError("claim digest", err)
	}
	defer tx.Rollback()
	now := s.now()
	cur, err := scanDigest(tx.QueryRowContext(ctx, `SELECT `+digestColumns+` FROM digests WHERE week = ?`, r.Week), false)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = tx.ExecContext(ctx, `INSERT INTO digests (week, timezone, start_at, end_at, status, owner, lease_until, claimed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, r.Week, r.TimeZone, ms(r.Start), ms(r.End), parley.DigestBuilding, owner,
			ms(leaseUntil), ms(now))
		if err != nil {
			return r, dbError("claim digest", err)
		}
	case err != nil:
		return r, dbError("claim digest", err)
	default:
		var lease int64
		if err := tx.QueryRowContext(ctx, `SELECT lease_until FROM digests WHERE week = ?`, r.Week).Scan(&lease); err != nil {
			return r, dbError("claim digest", err)
		}
		held := cur.Status == parley.DigestBuilding && cur.Owner != owner && lease > ms(now)
		if held && !force {
			return cur, parley.Errorf(parley.ECONFLICT, "digest %s is being sent by %s (claimed at %s)",
				r.Week, cur.Owner, cur.ClaimedAt.Format(time.RFC3339))
		}
		if (cur.Status == parley.DigestSent || cur.Status == parley.DigestStored) && !force {
			return cur, parley.Errorf(parley.ECONFLICT, "digest %s was already %s at %s", r.Week, cur.Status,
				cur.BuiltAt.Format(time.RFC3339))
		}
		_, err = tx.ExecContext(ctx, `UPDATE digests SET status = ?, owner = ?, lease_until = ?, claimed_at = ?,
			timezone = ?, start_at = ?, end_at = ? WHERE week = ?`, parley.DigestBuilding, owner, ms(leaseUntil), ms(now),
			r.TimeZone, ms(r.Start), ms(r.End), r.Week)
		if err != nil {
			return r, dbError("claim digest", err)
		}
	}
	out, err := scanDigest(tx.QueryRowContext(ctx, `SELECT `+digestColumns+`, markdown, html, text FROM digests WHERE week = ?`, r.Week), true)
	if err != nil {
		return r, dbError("claim digest", err)
	}
	if out.Deliveries, err = digestDeliveries(ctx, tx, r.Week); err != nil {
		return r, dbError("claim digest", err)
	}
	if err := tx.Commit(); err != nil {
		return r, dbError("claim digest", err)
	}
	return out, nil
}

type digestQuerier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

func digestDeliveries(ctx context.Context, q digestQuerier, week string) ([]parley.DigestDelivery, error) {
	rows, err := q.QueryContext(ctx, `SELECT target, type, ok, attempts, error, detail, at FROM digest_deliveries
		WHERE week = ? ORDER BY seq, target`, week)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []parley.DigestDelivery
	for rows.Next() {
		var d parley.DigestDelivery
		var ok int
		var at int64
		if err := rows.Scan(&d.Target, &d.Type, &ok, &d.Attempts, &d.Error, &d.Detail, &at); err != nil {
			return nil, err
		}
		d.OK, d.At = ok != 0, fromMS(at)
		out = append(out, d)
	}
	return out, rows.Err()
}

// SaveDigest implements parley.DigestStore.
func (s *Store) SaveDigest(ctx context.Context, r parley.DigestRecord, owner string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return dbError("save digest", err)
	}
	defer tx.Rollback()
	var cur string
	var lease int64
	err = tx.QueryRowContext(ctx, `SELECT owner, lease_until FROM digests WHERE week = ?`, r.Week).Scan(&cur, &lease)
	if errors.Is(err, sql.ErrNoRows) {
		return parley.Errorf(parley.ENOTFOUND, "digest %s was never claimed", r.Week)
	}
	if err != nil {
		return dbError("save digest", err)
	}
	if cur != owner {
		return parley.Errorf(parley.ECONFLICT, "digest %s is claimed by %s, not %s", r.Week, cur, owner)
	}
	status := r.Status
	if status == "" {
		status = parley.DigestBuilding
	}
	if status != parley.DigestBuilding {
		lease = 0
	}
	if _, err := tx.ExecContext(ctx, `UPDATE digests SET status = ?, lease_until = ?, built_at = ?, summary = ?,
		markdown = ?, html = ?, text = ? WHERE week = ?`, status, lease, ms(r.BuiltAt), r.Summary,
		r.Markdown, r.HTML, r.Text, r.Week); err != nil {
		return dbError("save digest", err)
	}
	for i, d := range r.Deliveries {
		if _, err := tx.ExecContext(ctx, `INSERT INTO digest_deliveries (week, target, seq, type, ok, attempts, error, detail, at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (week, target) DO UPDATE SET seq = excluded.seq, type = excluded.type, ok = excluded.ok,
				attempts = excluded.attempts, error = excluded.error, detail = excluded.detail, at = excluded.at`,
			r.Week, d.Target, i, d.Type, b2i(d.OK), d.Attempts, d.Error, d.Detail, ms(d.At)); err != nil {
			return dbError("save digest delivery", err)
		}
	}
	return dbError("save digest", tx.Commit())
}

// Digests implements parley.DigestStore.
func (s *Store) Digests(ctx context.Context) ([]parley.DigestRecord, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+digestColumns+` FROM digests ORDER BY start_at DESC, week DESC`)
	if err != nil {
		return nil, fmt.Errorf("list digests: %w", err)
	}
	var out []parley.DigestRecord
	for rows.Next() {
		r, err := scanDigest(rows, false)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("list digests: %w", err)
		}
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list digests: %w", err)
	}
	for i := range out {
		if out[i].Deliveries, err = digestDeliveries(ctx, s.rdb, out[i].Week); err != nil {
			return nil, fmt.Errorf("list digests: %w", err)
		}
	}
	return out, nil
}

// Digest implements parley.DigestStore.
func (s *Store) Digest(ctx context.Context, week string) (parley.DigestRecord, error) {
	r, err := scanDigest(s.rdb.QueryRowContext(ctx, `SELECT `+digestColumns+`, markdown, html, text FROM digests WHERE week = ?`, week), true)
	if err != nil {
		return r, notFound(err, "no digest for week %s", week)
	}
	if r.Deliveries, err = digestDeliveries(ctx, s.rdb, week); err != nil {
		return r, fmt.Errorf("digest %s: %w", week, err)
	}
	return r, nil
}
