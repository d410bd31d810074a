package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/webhook"
)

func init() {
	register(&command{
		name:    "webhook",
		summary: "manage outgoing webhooks: add, list, remove, test, log",
		usage: `parley webhook add URL --events TYPE,TYPE|* [--secret-env NAME]
parley webhook list [--json]
parley webhook remove ID
parley webhook test ID
parley webhook log ID [--json]

A webhook receives Parley's events as signed JSON POSTs (docs/webhooks.md):
mention.created, conversation.needs_reply, draft.created, draft.approved,
draft.sent, draft.failed, advocate.changed, prompt.outcome, alert.raised,
or * for all. Each POST carries Parley-Signature: t=TIME,v1=HMAC-SHA256 of
"TIME.BODY" with the webhook's secret. Without --secret-env a secret is
generated and printed once; with it the secret is read from that
environment variable. 'parley run' delivers them (retrying for
webhooks.retry_for); 'test' posts a test event now and prints the answer;
'log' shows the recent deliveries with their attempts.

Example:
  parley webhook add https://example.com/parley --events draft.sent,draft.failed
  parley webhook test 1`,
		run: runWebhook,
	})
}

func runWebhook(ctx context.Context, e *env, args []string) (retErr error) {
	fs := e.flags()
	events := fs.String("events", "", "the event types to send, comma-separated, or * for all (add)")
	secretEnv := fs.String("secret-env", "", "an environment variable holding the secret (add; default: generate one)")
	e.jsonFlag()
	rest, err := e.parse(args)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return fmt.Errorf("%w: want add, list, remove, test or log", errUsage)
	}
	sub, rest := rest[0], rest[1:]
	want := map[string]int{"add": 1, "list": 0, "remove": 1, "test": 1, "log": 1}
	n, ok := want[sub]
	switch {
	case !ok:
		return fmt.Errorf("%w: unknown subcommand %q: want add, list, remove, test or log", errUsage, sub)
	case len(rest) != n:
		return fmt.Errorf("%w: %s takes %d argument(s)", errUsage, sub, n)
	case sub == "add" && *events == "":
		return fmt.Errorf("%w: add needs --events (e.g. draft.sent,draft.failed, or * for all)", errUsage)
	}
	var id int64
	if n == 1 && sub != "add" {
		if id, err = strconv.ParseInt(rest[0], 10, 64); err != nil || id <= 0 {
			return fmt.Errorf("%w: %s: %q is not a webhook id (see parley webhook list)", errUsage, sub, rest[0])
		}
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	st, err := e.openAny(ctx, cfg)
	if err != nil {
		return err
	}
	defer joinErr(&retErr, st.Close)
	var wc WebhooksConfig
	if cfg != nil {
		wc = cfg.Webhooks
	}
	switch sub {
	case "add":
		return webhookAdd(ctx, e, st, wc, rest[0], *events, *secretEnv)
	case "list":
		return webhookList(ctx, e, st)
	case "remove":
		if err := st.RemoveWebhook(ctx, id); err != nil {
			return err
		}
		webhookAudit(ctx, e, st, "webhook_remove", fmt.Sprintf("webhook %d", id))
		fmt.Fprintf(e.stdout, "webhook %d removed\n", id)
		return nil
	case "test":
		return webhookTest(ctx, e, st, wc, id)
	}
	return webhookLog(ctx, e, st, id)
}

// newWebhookSecret returns "whsec_" and 48 random hex digits.
func newWebhookSecret() string {
	var b [24]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return "whsec_" + hex.EncodeToString(b[:])
}

func webhookAdd(ctx context.Context, e *env, st sharedStore, wc WebhooksConfig, url, events, secretEnv string) error {
	secret, generated := newWebhookSecret(), true
	if secretEnv != "" {
		if secret = e.getenv(secretEnv); secret == "" {
			return parley.Errorf(parley.EINVALID, "--secret-env: the variable %s is not set", secretEnv)
		}
		generated = false
	}
	if err := webhook.NewClient(webhook.Options{AllowPrivate: wc.AllowPrivate}).CheckURL(url); err != nil {
		return err
	}
	var list []string
	for _, ev := range strings.Split(events, ",") {
		if ev = strings.TrimSpace(ev); ev != "" {
			list = append(list, ev)
		}
	}
	w, err := st.AddWebhook(ctx, parley.Webhook{URL: url, Secret: secret, Events: list, CreatedBy: defaultActor(e)})
	if err != nil {
		return err
	}
	webhookAudit(ctx, e, st, "webhook_add", fmt.Sprintf("webhook %d: %s (%s)", w.ID, w.URL, strings.Join(w.Events, ",")))
	fmt.Fprintf(e.stdout, "webhook %d added: %s gets %s\n", w.ID, w.URL, strings.Join(w.Events, ", "))
	if generated {
		fmt.Fprintf(e.stdout, "secret (shown once; the receiver verifies signatures with it):\n%s\n", secret)
	}
	return nil
}

func webhookAudit(ctx context.Context, e *env, st parley.AuditLog, action, detail string) {
	if _, err := st.AddAudit(ctx, parley.AuditEntry{Actor: defaultActor(e), Action: action, Detail: detail}); err != nil {
		e.logger.Warn("audit", "err", err)
	}
}

func webhookList(ctx context.Context, e *env, st sharedStore) error {
	hooks, err := st.Webhooks(ctx)
	if err != nil {
		return err
	}
	if e.jsonOut {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(hooks)
	}
	if len(hooks) == 0 {
		fmt.Fprintln(e.stdout, "no webhooks yet; add one with 'parley webhook add URL --events *'")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tURL\tEVENTS\tADDED BY\tADDED")
	for _, w := range hooks {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", w.ID, w.URL, strings.Join(w.Events, ","), w.CreatedBy,
			w.CreatedAt.Format(time.DateOnly))
	}
	return tw.Flush()
}

// webhookTest posts a test event to the webhook now, from this process,
// and prints the answer (the web's "Send test" goes through the delivery
// log instead).
func webhookTest(ctx context.Context, e *env, st sharedStore, wc WebhooksConfig, id int64) error {
	w, err := st.Webhook(ctx, id)
	if err != nil {
		return err
	}
	ev, err := bot.NewEvent(parley.EventTest, 0, map[string]any{"webhook_id": id, "sent_by": defaultActor(e),
		"message": "A test event from Parley: if you read this, the webhook works."}, time.Now())
	if err != nil {
		return err
	}
	body, err := ev.Body()
	if err != nil {
		return err
	}
	d := parley.WebhookDelivery{WebhookID: id, EventID: ev.ID, EventType: ev.Type, Body: body, URL: w.URL, Secret: w.Secret}
	client := webhook.NewClient(webhook.Options{AllowPrivate: wc.AllowPrivate, Timeout: wc.Timeout})
	status, took, err := client.Post(ctx, d, time.Now())
	if err != nil {
		return fmt.Errorf("webhook %d: %w", id, err)
	}
	fmt.Fprintf(e.stdout, "webhook %d answered %d in %s (event %s)\n", id, status, took.Round(time.Millisecond), ev.ID)
	return nil
}

func webhookLog(ctx context.Context, e *env, st sharedStore, id int64) error {
	if _, err := st.Webhook(ctx, id); err != nil {
		return err
	}
	ds, err := st.WebhookDeliveries(ctx, id, 50)
	if err != nil {
		return err
	}
	if e.jsonOut {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(ds)
	}
	if len(ds) == 0 {
		fmt.Fprintf(e.stdout, "no deliveries to webhook %d yet\n", id)
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EVENT\tTYPE\tSTATE\tATTEMPTS\tSTATUS\tERROR\tUPDATED")
	for _, d := range ds {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\n", d.EventID, d.EventType, d.State, d.Attempts, d.LastStatus,
			d.LastError, d.UpdatedAt.Format(time.DateTime))
	}
	return tw.Flush()
}
