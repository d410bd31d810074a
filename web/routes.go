package web

import (
	"net/http"

	"github.com/parleybot/parley"
)

// routes wires every URL. Pages are GET; every state change is a POST that
// passes the CSRF check. Forms work without JavaScript (they redirect back);
// app.js posts the same forms with fetch and asks for JSON.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()

	// No session, no login.
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /metrics", s.metricsOnInbox)
	mux.Handle("GET /static/", s.views.staticHandler())
	// The API never reads the session cookie: bearer tokens only.
	mux.Handle("/api/", s.apiHandler())
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, s.views.static("favicon.svg"), http.StatusMovedPermanently)
	})

	app := http.NewServeMux()
	app.HandleFunc("GET /login", s.loginPage)
	app.HandleFunc("POST /login", s.login)
	app.HandleFunc("POST /logout", s.logout)

	agent := func(h http.HandlerFunc) http.Handler { return s.requireRole(parley.RoleAgent, h) }
	manager := func(h http.HandlerFunc) http.Handler { return s.requireRole(parley.RoleManager, h) }
	admin := func(h http.HandlerFunc) http.Handler { return s.requireRole(parley.RoleAdmin, h) }

	app.Handle("GET /{$}", agent(s.inbox))
	app.Handle("GET /events", agent(s.events))
	app.Handle("GET /drafts/{id}", agent(s.draftCard))
	app.Handle("POST /drafts/{id}/approve", agent(s.approve))
	app.Handle("POST /drafts/{id}/edit", agent(s.edit))
	app.Handle("POST /drafts/{id}/reject", agent(s.reject))
	app.Handle("POST /drafts/{id}/undo", agent(s.undo))
	app.Handle("POST /drafts/{id}/assign", agent(s.assign))

	app.Handle("GET /search", agent(s.search))
	app.Handle("POST /bulk", agent(s.bulk))

	app.Handle("GET /threads/{id}", agent(s.thread))
	app.Handle("GET /threads/{id}/pane", agent(s.pane))
	app.Handle("POST /threads/{id}/reply", agent(s.reply))
	// Agents may close, reopen, snooze and take a conversation; the assign
	// handler itself refuses them giving it to someone else.
	app.Handle("POST /threads/{id}/close", agent(s.closeConversation))
	app.Handle("POST /threads/{id}/reopen", agent(s.reopenConversation))
	app.Handle("POST /threads/{id}/snooze", agent(s.snoozeConversation))
	app.Handle("POST /threads/{id}/assign", agent(s.assignConversation))
	app.Handle("POST /threads/{id}/notes", agent(s.addConversationNote))
	app.Handle("POST /threads/{id}/tags", agent(s.tagConversation))

	app.Handle("GET /saved-replies", agent(s.savedReplies))
	app.Handle("GET /saved-replies/pick", agent(s.pickSavedReply))
	app.Handle("POST /saved-replies", manager(s.saveReply))
	app.Handle("POST /saved-replies/{id}", manager(s.saveReply))
	app.Handle("POST /saved-replies/{id}/delete", manager(s.deleteSavedReply))

	app.Handle("GET /advocates", agent(s.advocates))
	app.Handle("POST /advocates/{id}/{action}", manager(s.advocateAction))

	app.Handle("GET /people", agent(s.people))
	app.Handle("GET /people/{id}", agent(s.person))
	app.Handle("POST /people/{id}/notes", agent(s.addNote))
	app.Handle("POST /people/{id}/links", manager(s.link))
	app.Handle("POST /people/{id}/unlink", manager(s.unlink))
	app.Handle("POST /people/{id}/optout", manager(s.optOut))
	app.Handle("POST /people/{id}/erase", manager(s.erasePerson))

	app.Handle("POST /mentions/{id}/sentiment", agent(s.correctSentiment))

	app.Handle("GET /alerts", agent(s.alerts))

	app.Handle("GET /activity", manager(s.activity))
	app.Handle("GET /exports", manager(s.exports))
	app.Handle("GET /exports/download", manager(s.exportDownload))

	app.Handle("GET /digests", manager(s.digests))
	app.Handle("GET /digests/{week}", manager(s.digest))
	app.Handle("GET /digests/{week}/{file}", manager(s.digestFile))

	app.Handle("GET /account", agent(s.account))
	app.Handle("POST /account/password", agent(s.changePassword))

	app.Handle("GET /users", admin(s.users))
	app.Handle("POST /users", admin(s.addUser))
	app.Handle("POST /users/{name}/role", admin(s.setRole))
	app.Handle("POST /users/{name}/password", admin(s.resetPassword))
	app.Handle("POST /users/{name}/delete", admin(s.deleteUser))

	app.Handle("GET /tokens", admin(s.tokens))
	app.Handle("POST /tokens", admin(s.addToken))
	app.Handle("POST /tokens/{name}/revoke", admin(s.revokeToken))

	app.Handle("GET /webhooks", admin(s.webhooks))
	app.Handle("POST /webhooks", admin(s.addWebhook))
	app.Handle("GET /webhooks/{id}", admin(s.webhookLog))
	app.Handle("POST /webhooks/{id}/test", admin(s.testWebhook))
	app.Handle("POST /webhooks/{id}/delete", admin(s.removeWebhook))

	app.Handle("GET /status", admin(s.statusPage))
	app.Handle("GET /status.json", admin(s.statusJSON))
	app.Handle("POST /status/drafts/{id}/retry", admin(s.retryDraft))

	app.HandleFunc("/", s.notFound)

	withSession := s.withSession(s.checkCSRF(app))
	mux.Handle("GET /status.json", s.statusJSONOrSession(withSession))
	mux.Handle("/", withSession)
	return s.recoverPanics(s.securityHeaders(s.logRequests(mux)))
}
