package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/internal/textutil"
)

// loginView is the login page's data.
type loginView struct {
	Next  string
	Name  string
	Error string
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if u, err := s.loadUser(r); err == nil && u != nil {
		http.Redirect(w, r, sameSitePath(r.URL.Query().Get("next")), http.StatusSeeOther) //nolint:gosec // G710: sameSitePath keeps only a local path
		return
	}
	s.render(w, r, http.StatusOK, "login", "Log in", "", loginView{Next: sameSitePath(r.URL.Query().Get("next"))})
}

// login checks a name and password. Failures are throttled per name and
// address (429 with Retry-After, see LoginLimit); a success renews the
// session token and is written to the audit log, as are failures (under
// the user's name, or a hash for a name that is no user).
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	name := strings.TrimSpace(r.PostFormValue("name"))
	password := r.PostFormValue("password")
	next := sameSitePath(r.PostFormValue("next"))
	ip := s.clientIP(r)
	v := loginView{Next: next, Name: textutil.TruncateBytes(name, maxNameLen)}
	if name == "" || password == "" {
		v.Error = "Enter your user name and password."
		s.render(w, r, http.StatusUnprocessableEntity, "login", "Log in", "", v)
		return
	}
	var u parley.User
	var err error = parley.Errorf(parley.ENOTFOUND, "no such user")
	if len(name) <= maxNameLen {
		u, err = s.st.User(ctx, name)
		if err != nil && parley.ErrorCode(err) != parley.ENOTFOUND {
			s.fail(w, r, err)
			return
		}
	}
	// Who the attempt is recorded as: a user's name, or for anything else
	// (a typo, a password typed into the name field, junk) a keyed hash
	// that tells attempts apart without keeping what was typed.
	who := u.Name
	if err != nil {
		who = s.unknownName(name)
	}
	if ok, wait := s.limiter.allow(ip, who); !ok {
		s.metrics.observeLogin("limited")
		s.logger.Warn("login rate-limited", "user", who, "remote", ip)
		secs := int(math.Ceil(wait.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		v.Error = "Too many failed logins from here. Wait " + waitText(wait) + " and try again, or ask an admin to reset your password."
		s.render(w, r, http.StatusTooManyRequests, "login", "Log in", "", v)
		return
	}
	hash := u.PasswordHash
	if err != nil {
		hash = dummyHash(s.opts.PasswordCost) // as slow as a real check: do not tell which names exist
	}
	if !passwordMatches(hash, password) || err != nil {
		s.limiter.failed(ip, who)
		s.metrics.observeLogin("failed")
		s.logger.Warn("login failed", "user", who, "remote", ip)
		if _, aerr := s.st.AddAudit(ctx, parley.AuditEntry{Actor: who, Action: "login_failed", Detail: "from " + textutil.TruncateBytes(ip, 64)}); aerr != nil {
			s.logger.Error("audit", "err", aerr)
		}
		v.Error = "That user name and password do not match. Check them and try again."
		s.render(w, r, http.StatusUnauthorized, "login", "Log in", "", v)
		return
	}
	s.limiter.succeeded(ip, who)
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
	http.Redirect(w, r, next, http.StatusSeeOther) //nolint:gosec // G710: next went through sameSitePath, a local path only
}

// maxNameLen is the longest user name (parley.CheckUserName).
const maxNameLen = 64

// unknownName is how a login name that is no user is recorded: "unknown
// name #" and a hash keyed with this process's secret, so two attempts
// with the same name look alike but what was typed cannot be recovered
// (not even by guessing passwords against it).
func (s *Server) unknownName(name string) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte("parley login name\x00" + strings.ToLower(name)))
	return "unknown name #" + hex.EncodeToString(m.Sum(nil))[:8]
}

// waitText says how long to wait: "40 seconds", "1 minute", "3 minutes".
func waitText(d time.Duration) string {
	if d < time.Minute {
		n := max(1, int(math.Ceil(d.Seconds())))
		return fmt.Sprintf("%d second%s", n, map[bool]string{true: "", false: "s"}[n == 1])
	}
	n := int(math.Ceil(d.Minutes()))
	return fmt.Sprintf("%d minute%s", n, map[bool]string{true: "", false: "s"}[n == 1])
}

// logout ends the session.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	name := s.sessions.GetString(ctx, keyUser)
	if name != "" {
		s.streams.endUser(name, s.sessions.Token(ctx))
	}
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
