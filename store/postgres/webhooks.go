package postgres

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleybot/parley"
)

var _ parley.WebhookStore = (*Store)(nil)

const webhookColumns = `id, url, secret, events, created_by, created_at`

func scanWebhook(row pgx.Row) (parley.Webhook, error) {
	var w parley.Webhook
	var events string
	var created int64
	err := row.Scan(&w.ID, &w.URL, &w.Secret, &events, &w.CreatedBy, &created)
	w.Events, w.CreatedAt = splitList(events), fromMS(created)
	return w, err
}

const deliveryColumns = `d.id, d.webhook_id, d.event_id, d.event_type, d.body, d.state, d.attempts, d.next_at,
	d.last_status, d.last_error, d.created_at, d.updated_at, w.url, w.secret`

func scanDelivery(row pgx.Row) (parley.WebhookDelivery, error) {
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
	err := s.pool.QueryRow(ctx, `INSERT INTO webhooks (url, secret, events, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, w.URL, w.Secret, joinList(w.Events), w.CreatedBy, ms(w.CreatedAt)).Scan(&w.ID)
	return w, dbError("add webhook", err)
}

// Webhooks implements parley.WebhookStore.
func (s *Store) Webhooks(ctx context.Context) ([]parley.Webhook, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+webhookColumns+` FROM webhooks ORDER BY id`)
	if err != nil {
		return nil, dbError("webhooks", err)
	}
	out, err := collect(rows, scanWebhook)
	if out == nil {
		out = []parley.Webhook{}
	}
	return out, dbError("webhooks", err)
}

// Webhook implements parley.WebhookStore.
func (s *Store) Webhook(ctx context.Context, id int64) (parley.Webhook, error) {
	w, err := scanWebhook(s.pool.QueryRow(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = $1`, id))
	if err != nil {
		return w, notFound(err, "webhook %d not found", id)
	}
	return w, nil
}

// RemoveWebhook implements parley.WebhookStore.
func (s *Store) RemoveWebhook(ctx context.Context, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM webhooks WHERE id = $1`, id)
	if err != nil {
		return dbError("remove webhook", err)
	}
	if tag.RowsAffected() == 0 {
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
	n := 0
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		now := ms(s.now())
		for _, e := range events {
			body, err := e.Body()
			if err != nil {
				return parley.Errorf(parley.EINVALID, "event %s: %w", e.ID, err)
			}
			tag, err := tx.Exec(ctx, `INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, person_id, body,
				next_at, created_at, updated_at)
				SELECT id, $1, $2, $3, $4, $5, $5, $5 FROM webhooks
				WHERE ($6 > 0 AND id = $6) OR ($6 = 0 AND (','||events||',' LIKE '%,'||$2||',%' OR ','||events||',' LIKE '%,*,%'))
				ON CONFLICT (webhook_id, event_id) DO NOTHING`,
				e.ID, e.Type, e.PersonID, string(body), now, only)
			if err != nil {
				return err
			}
			n += int(tag.RowsAffected())
		}
		return nil
	})
	if err != nil {
		return 0, dbError("enqueue events", err)
	}
	return n, nil
}

// ClaimDeliveries implements parley.WebhookStore. Workers on several
// processes skip the rows another has locked, so a delivery goes to one.
func (s *Store) ClaimDeliveries(ctx context.Context, limit int, now time.Time, lease time.Duration) ([]parley.WebhookDelivery, error) {
	rows, err := s.pool.Query(ctx, `UPDATE webhook_deliveries d SET attempts = d.attempts + 1, next_at = $1, updated_at = $2
		FROM webhooks w WHERE w.id = d.webhook_id AND d.id IN (SELECT id FROM webhook_deliveries
			WHERE state = 'pending' AND next_at <= $2 ORDER BY next_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
		RETURNING `+deliveryColumns, ms(now.Add(lease)), ms(now), limit)
	if err != nil {
		return nil, dbError("claim deliveries", err)
	}
	out, err := collect(rows, scanDelivery)
	if out == nil {
		out = []parley.WebhookDelivery{}
	}
	return out, dbError("claim deliveries", err)
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
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE webhook_deliveries SET state = $1, next_at = $2, last_status = $3, last_error = $4,
			updated_at = $5 WHERE id = $6`, state, ms(retryAt), a.Status, a.Error, ms(a.At), a.DeliveryID)
		if err != nil {
			return dbError("record attempt", err)
		}
		if tag.RowsAffected() == 0 {
			return parley.Errorf(parley.ENOTFOUND, "webhook delivery %d not found", a.DeliveryID)
		}
		_, err = tx.Exec(ctx, `INSERT INTO webhook_attempts (delivery_id, at, status, error, duration_ms)
			VALUES ($1, $2, $3, $4, $5)`, a.DeliveryID, ms(a.At), a.Status, a.Error, a.Duration.Milliseconds())
		return dbError("record attempt", err)
	})
}

// WebhookDeliveries implements parley.WebhookStore.
func (s *Store) WebhookDeliveries(ctx context.Context, webhookID int64, limit int) ([]parley.WebhookDelivery, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.pool.Query(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries d
		JOIN webhooks w ON w.id = d.webhook_id WHERE d.webhook_id = $1 ORDER BY d.id DESC LIMIT $2`, webhookID, limit)
	if err != nil {
		return nil, dbError("webhook deliveries", err)
	}
	out, err := collect(rows, scanDelivery)
	if out == nil {
		out = []parley.WebhookDelivery{}
	}
	return out, dbError("webhook deliveries", err)
}

// WebhookAttempts implements parley.WebhookStore.
func (s *Store) WebhookAttempts(ctx context.Context, deliveryID int64) ([]parley.WebhookAttempt, error) {
	rows, err := s.pool.Query(ctx, `SELECT delivery_id, at, status, error, duration_ms FROM webhook_attempts
		WHERE delivery_id = $1 ORDER BY id`, deliveryID)
	if err != nil {
		return nil, dbError("webhook attempts", err)
	}
	out, err := collect(rows, func(row pgx.Row) (parley.WebhookAttempt, error) {
		var a parley.WebhookAttempt
		var at, dur int64
		err := row.Scan(&a.DeliveryID, &at, &a.Status, &a.Error, &dur)
		a.At, a.Duration = fromMS(at), time.Duration(dur)*time.Millisecond
		return a, err
	})
	if out == nil {
		out = []parley.WebhookAttempt{}
	}
	return out, dbError("webhook attempts", err)
}
