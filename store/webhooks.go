package store

import (
	"context"
	"strings"
	"time"

	"github.com/parleybot/parley"
)

var _ parley.WebhookStore = (*Store)(nil)

const webhookColumns = `id, url, secret, events, created_by, created_at`

func scanWebhook(row scanner) (parley.Webhook, error) {
	var w parley.Webhook
	var events string
	var created int64
	err := row.Scan(&w.ID, &w.URL, &w.Secret, &events, &w.CreatedBy, &created)
	w.Events, w.CreatedAt = splitList(events), fromMS(created)
	return w, err
}

const deliveryColumns = `d.id, d.webhook_id, d.event_id, d.event_type, d.body, d.state, d.attempts, d.next_at,
	d.last_status, d.last_error, d.created_at, d.updated_at, w.url, w.secret`

func scanDelivery(row scanner) (parley.WebhookDelivery, error) {
	var d parley.WebhookDelivery
	var body string
	var next, created, updated int64
	err := row.Scan(&d.ID, &d.WebhookID, &d.EventID, &d.EventType, &body, &d.State, &d.Attempts, &next,
		&d.LastStatus, &d.LastError, &created, &updated, &d.URL, &d.Secret)
	d.Body, d.NextAt, d.CreatedAt, d.UpdatedAt = []byte(body), fromMS(next), fromMS(created), fromMS(updated)
	return d, err
}

// AddWebhook implements parley.WebhookStore.
func (s *Store) AddWebhook(ctx context.Context, w parley.Webhook) (parley.Webhook, error) {
	w.URL = strings.TrimSpace(w.URL)
	if err := w.Check(); err != nil {
		return w, err
	}
	if w.CreatedAt.IsZero() {
		w.CreatedAt = s.now()
	}
	err := s.db.QueryRowContext(ctx, `INSERT INTO webhooks (url, secret, events, created_by, created_at)
		VALUES (?, ?, ?, ?, ?) RETURNING id`, w.URL, w.Secret, joinList(w.Events), w.CreatedBy, ms(w.CreatedAt)).Scan(&w.ID)
	return w, dbError("add webhook", err)
}

// Webhooks implements parley.WebhookStore.
func (s *Store) Webhooks(ctx context.Context) ([]parley.Webhook, error) {
	out := []parley.Webhook{}
	err := eachRow(ctx, s.rdb, scanWebhook, appendTo(&out), `SELECT `+webhookColumns+` FROM webhooks ORDER BY id`)
	return out, err
}

// Webhook implements parley.WebhookStore.
func (s *Store) Webhook(ctx context.Context, id int64) (parley.Webhook, error) {
	w, err := scanWebhook(s.rdb.QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = ?`, id))
	if err != nil {
		return w, notFound(err, "webhook %d not found", id)
	}
	return w, nil
}

// RemoveWebhook implements parley.WebhookStore.
func (s *Store) RemoveWebhook(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM webhooks WHERE id = ?`, id)
	if err != nil {
		return dbError("remove webhook", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return parley.Errorf(parley.ENOTFOUND, "webhook %d not found", id)
	}
	return nil
}

// EnqueueEvents implements parley.WebhookStore: one INSERT … SELECT per
// event over the subscriptions that want it, in one transaction.
func (s *Store) EnqueueEvents(ctx context.Context, only int64, events ...parley.Event) (int, error) {
	if len(events) == 0 {
		return 0, nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, dbError("enqueue events", err)
	}
	defer func() { _ = tx.Rollback() }()
	now, n := ms(s.now()), 0
	for _, e := range events {
		body, err := e.Body()
		if err != nil {
			return 0, parley.Errorf(parley.EINVALID, "event %s: %w", e.ID, err)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, person_id, body,
			next_at, created_at, updated_at)
			SELECT id, ?, ?, ?, ?, ?, ?, ? FROM webhooks
			WHERE (? > 0 AND id = ?) OR (? = 0 AND (','||events||',' LIKE '%,'||?||',%' OR ','||events||',' LIKE '%,*,%'))
			ON CONFLICT (webhook_id, event_id) DO NOTHING`,
			e.ID, e.Type, e.PersonID, string(body), now, now, now, only, only, only, e.Type)
		if err != nil {
			return 0, dbError("enqueue events", err)
		}
		k, _ := res.RowsAffected()
		n += int(k)
	}
	return n, dbError("enqueue events", tx.Commit())
}

// ClaimDeliveries implements parley.WebhookStore.
func (s *Store) ClaimDeliveries(ctx context.Context, limit int, now time.Time, lease time.Duration) ([]parley.WebhookDelivery, error) {
	out := []parley.WebhookDelivery{}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, dbError("claim deliveries", err)
	}
	defer func() { _ = tx.Rollback() }()
	err = eachRow(ctx, tx, scanDelivery, appendTo(&out), `SELECT `+deliveryColumns+` FROM webhook_deliveries d
		JOIN webhooks w ON w.id = d.webhook_id WHERE d.state = 'pending' AND d.next_at <= ? ORDER BY d.next_at, d.id LIMIT ?`,
		ms(now), limit)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Attempts++
		out[i].NextAt = now.Add(lease)
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET attempts = ?, next_at = ?, updated_at = ? WHERE id = ?`,
			out[i].Attempts, ms(out[i].NextAt), ms(now), out[i].ID); err != nil {
			return nil, dbError("claim deliveries", err)
		}
	}
	return out, dbError("claim deliveries", tx.Commit())
}

// RecordAttempt implements parley.WebhookStore.
func (s *Store) RecordAttempt(ctx context.Context, a parley.WebhookAttempt, ok bool, retryAt time.Time) error {
	state := parley.DeliveryDelivered
	if !ok {
		state = parley.DeliveryFailed
		if !retryAt.IsZero() {
			state = parley.DeliveryPending
		}
	}
	if a.At.IsZero() {
		a.At = s.now()
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return dbError("record attempt", err)
	}
	defer func() { _ = tx.Rollback() }()
	res, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET state = ?, next_at = ?, last_status = ?, last_error = ?,
		updated_at = ? WHERE id = ?`, state, ms(retryAt), a.Status, a.Error, ms(a.At), a.DeliveryID)
	if err != nil {
		return dbError("record attempt", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return parley.Errorf(parley.ENOTFOUND, "webhook delivery %d not found", a.DeliveryID)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_attempts (delivery_id, at, status, error, duration_ms)
		VALUES (?, ?, ?, ?, ?)`, a.DeliveryID, ms(a.At), a.Status, a.Error, a.Duration.Milliseconds()); err != nil {
		return dbError("record attempt", err)
	}
	return dbError("record attempt", tx.Commit())
}

// WebhookDeliveries implements parley.WebhookStore.
func (s *Store) WebhookDeliveries(ctx context.Context, webhookID int64, limit int) ([]parley.WebhookDelivery, error) {
	if limit <= 0 {
		limit = 100
	}
	out := []parley.WebhookDelivery{}
	err := eachRow(ctx, s.rdb, scanDelivery, appendTo(&out), `SELECT `+deliveryColumns+` FROM webhook_deliveries d
		JOIN webhooks w ON w.id = d.webhook_id WHERE d.webhook_id = ? ORDER BY d.id DESC LIMIT ?`, webhookID, limit)
	return out, err
}

// WebhookAttempts implements parley.WebhookStore.
func (s *Store) WebhookAttempts(ctx context.Context, deliveryID int64) ([]parley.WebhookAttempt, error) {
	out := []parley.WebhookAttempt{}
	err := eachRow(ctx, s.rdb, func(row scanner) (parley.WebhookAttempt, error) {
		var a parley.WebhookAttempt
		var at, dur int64
		err := row.Scan(&a.DeliveryID, &at, &a.Status, &a.Error, &dur)
		a.At, a.Duration = fromMS(at), time.Duration(dur)*time.Millisecond
		return a, err
	}, appendTo(&out), `SELECT delivery_id, at, status, error, duration_ms FROM webhook_attempts
		WHERE delivery_id = ? ORDER BY id`, deliveryID)
	return out, err
}
