package web

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parleybot/parley"
)

// loginView is the login page's data.
type loginView struct {
	Next  string
	Name  string
	Error string
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if u, err := s.loadUser(r); err == nil && u != nil {
		http.Redirect(w, r, sameSitePath(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "login", "Log in", "", loginView{Next: sameSitePath(r.URL.Query().Get("next"))})
}

// login checks a name and password. Attempts are limited per IP and per
// name (429 with Retry-After beyond); a success renews the session token
// and is written to the audit log, as are failures.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	name := strings.TrimSpace(r.PostFormValue("name"))
	password := r.PostFormValue("password")
	next := sameSitePath(r.PostFormValue("next"))
	ip := s.clientIP(r)
	v := loginView{Next: next, Name: name}
	if name == "" || password == "" {
		v.Error = "Enter your user name and password."
		s.render(w, r, http.StatusUnprocessableEntity, "login", "Log in", "", v)
		return
	}
	if ok, wait := s.limiter.allow(ip, name); !ok {
		s.metrics.observeLogin("limited")
		s.logger.Warn("login rate-limited", "user", name, "remote", ip)
		mins := int(math.Ceil(wait.Minutes()))
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		v.Error = fmt.Sprintf("Too many login attempts. Wait %d minute%s and try again, or ask an admin to reset your password.",
			mins, map[bool]string{true: "", false: "s"}[mins == 1])
		s.render(w, r, http.StatusTooManyRequests, "login", "Log in", "", v)
		return
	}
	u, err := s.st.User(ctx, name)
	if err != nil && parley.ErrorCode(err) != parley.ENOTFOUND {
		s.fail(w, r, err)
		return
	}
	hash := u.PasswordHash
	if err != nil {
		hash = dummyHash() // as slow as a real check: do not tell which names exist
	}
	if !passwordMatches(hash, password) || err != nil {
		s.limiter.failed(name)
		s.metrics.observeLogin("failed")
		s.logger.Warn("login failed", "user", name, "remote", ip)
		if _, aerr := s.st.AddAudit(ctx, parley.AuditEntry{Actor: name, Action: "login_failed", Detail: "from " + ip}); aerr != nil {
			s.logger.Error("audit", "err", aerr)
		}
		v.Error = "That user name and password do not match. Check them and try again."
		s.render(w, r, http.StatusUnauthorized, "login", "Log in", "", v)
		return
	}
	s.limiter.succeeded(name)
	// A new token on login: a session id planted before cannot ride it.
	if err := s.sessions.RenewToken(ctx); err != nil {
		s.fail(w, r, err)
		return
	}
	now := time.Now()
	s.sessions.Put(ctx, keyUser, u.Name)
	s.sessions.Put(ctx, keyLoginAt, now.UnixMilli())
	s.sessions.Remove(ctx, keyCSRF) // a fresh token for the logged-in session
	if err := s.st.RecordLogin(ctx, u.Name, now); err != nil {
		s.logger.Error("record login", "err", err)
	}
	if _, err := s.st.AddAudit(ctx, parley.AuditEntry{Actor: u.Name, Action: "login", Detail: "from " + ip}); err != nil {
		s.logger.Error("audit", "err", err)
	}
	s.metrics.observeLogin("ok")
	s.logger.Info("login", "user", u.Name, "remote", ip)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// logout ends the session.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	name := s.sessions.GetString(ctx, keyUser)
	if err := s.sessions.Destroy(ctx); err != nil {
		s.fail(w, r, err)
		return
	}
	if name != "" {
		if _, err := s.st.AddAudit(ctx, parley.AuditEntry{Actor: name, Action: "logout"}); err != nil {
			s.logger.Error("audit", "err", err)
		}
	}
	s.flash(ctx, "You are logged out.", true)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
