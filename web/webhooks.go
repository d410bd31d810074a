package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"

	"github.com/parleybot/parley"
)

// WebhookTester sends a test event to one webhook through the delivery
// log (bot.Webhooks).
type WebhookTester interface {
	Test(ctx context.Context, webhookID int64, actor string) (eventID string, err error)
}

// keyNewSecret is the session key that carries a new secret to the next page, once.
const keyNewSecret = "new_webhook_secret" // #nosec G101 -- a key name, not a credential

type webhooksView struct {
	Webhooks  []parley.Webhook
	Events    []string
	CanTest   bool
	NewSecret struct{ ID, Secret string }
}

// webhooks lists the subscriptions, with the form to add one.
func (s *Server) webhooks(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	hooks, err := s.st.Webhooks(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := webhooksView{Webhooks: hooks, Events: parley.EventTypes(), CanTest: s.opts.Webhooks != nil}
	if ns := s.sessions.PopString(ctx, keyNewSecret); ns != "" {
		v.NewSecret.ID, v.NewSecret.Secret, _ = strings.Cut(ns, "\x00")
	}
	s.render(w, r, http.StatusOK, "webhooks", "Webhooks", "webhooks", v)
}

// addWebhook subscribes a URL; its secret is generated and shown once.
func (s *Server) addWebhook(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, parley.Errorf(parley.EINVALID, "bad form: %v", err))
		return
	}
	events := r.PostForm["events"]
	if r.PostFormValue("all") != "" {
		events = []string{parley.EventAll}
	}
	var b [24]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	secret := "whsec_" + hex.EncodeToString(b[:])
	hook, err := s.st.AddWebhook(r.Context(), parley.Webhook{URL: formText(r, "url"), Secret: secret, Events: events,
		CreatedBy: currentUser(r.Context()).Name})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, "webhook_add", fmt.Sprintf("webhook %d: %s (%s)", hook.ID, hook.URL, strings.Join(hook.Events, ",")))
	s.sessions.Put(r.Context(), keyNewSecret, fmt.Sprint(hook.ID)+"\x00"+secret)
	s.flash(r.Context(), fmt.Sprintf("Webhook %d added.", hook.ID), true)
	http.Redirect(w, r, "/webhooks", http.StatusSeeOther)
}

func (s *Server) removeWebhook(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err == nil {
		err = s.st.RemoveWebhook(r.Context(), id)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, "webhook_remove", fmt.Sprintf("webhook %d", id))
	s.flash(r.Context(), fmt.Sprintf("Webhook %d removed.", id), true)
	http.Redirect(w, r, "/webhooks", http.StatusSeeOther)
}

func (s *Server) testWebhook(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err == nil && s.opts.Webhooks == nil {
		err = parley.Errorf(parley.ENOTFOUND, "webhooks are not delivered by this process")
	}
	var evt string
	if err == nil {
		evt, err = s.opts.Webhooks.Test(r.Context(), id, currentUser(r.Context()).Name)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.flash(r.Context(), fmt.Sprintf("Test event %s queued: its delivery shows below.", evt), true)
	http.Redirect(w, r, fmt.Sprintf("/webhooks/%d", id), http.StatusSeeOther)
}

type deliveryView struct {
	parley.WebhookDelivery
	Log []parley.WebhookAttempt
}

type webhookLogView struct {
	Webhook    parley.Webhook
	Deliveries []deliveryView
	CanTest    bool
}

// webhookLog shows a webhook's recent deliveries with every attempt.
func (s *Server) webhookLog(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := pathID(r)
	var v webhookLogView
	if err == nil {
		v.Webhook, err = s.st.Webhook(ctx, id)
	}
	var ds []parley.WebhookDelivery
	if err == nil {
		ds, err = s.st.WebhookDeliveries(ctx, id, 50)
	}
	for _, d := range ds {
		if err != nil {
			break
		}
		dv := deliveryView{WebhookDelivery: d}
		dv.Log, err = s.st.WebhookAttempts(ctx, d.ID)
		v.Deliveries = append(v.Deliveries, dv)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.CanTest = s.opts.Webhooks != nil
	s.render(w, r, http.StatusOK, "webhook", "Webhook "+fmt.Sprint(id), "webhooks", v)
}
