package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/parleybot/parley"
)

// Session keys.
const (
	keyUser    = "user"     // the logged-in user's name
	keyLoginAt = "login_at" // Unix ms of the login, against password changes
	keyCSRF    = "csrf"     // the synchronizer token
	keyFlash   = "flash"    // a message for the next page
	keyFlashOK = "flash_ok" // whether it is good news
)

// contentSecurityPolicy forbids inline script (and inline style), plugins,
// framing and foreign origins.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if s.secureRequest(r) {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// statusWriter remembers the status for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if strings.HasPrefix(r.URL.Path, "/static/") {
			return
		}
		s.logger.Debug("http request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"duration_ms", time.Since(start).Milliseconds(), "remote", s.clientIP(r))
	})
}

func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.logger.Error("panic in handler", "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// clientIP is the address a request came from: the peer, or with
// BehindProxy the last address the proxy appended to X-Forwarded-For.
func (s *Server) clientIP(r *http.Request) string {
	if s.cfg.BehindProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			parts := strings.Split(xff, ",")
			if ip := strings.TrimSpace(parts[len(parts)-1]); ip != "" {
				return ip
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// secureRequest reports whether cookies for r should be Secure.
func (s *Server) secureRequest(r *http.Request) bool {
	return s.cfg.SecureCookies || s.cfg.secureBase() || r.TLS != nil ||
		(s.cfg.BehindProxy && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https"))
}

// withSession loads the session for the request and saves it (with its
// cookie) before the first byte of the response, like scs's LoadAndSave,
// but decides the cookie's Secure flag per request.
func (s *Server) withSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Cookie")
		var token string
		if c, err := r.Cookie(s.sessions.Cookie.Name); err == nil {
			token = c.Value
		}
		ctx, err := s.sessions.Load(r.Context(), token)
		if err != nil {
			s.serverError(w, r, fmt.Errorf("load session: %w", err))
			return
		}
		r = r.WithContext(ctx)
		sw := &sessionWriter{ResponseWriter: w, s: s, r: r}
		next.ServeHTTP(sw, r)
		sw.commit()
	})
}

type sessionWriter struct {
	http.ResponseWriter
	s         *Server
	r         *http.Request
	committed bool
}

func (sw *sessionWriter) commit() {
	if sw.committed {
		return
	}
	sw.committed = true
	s, ctx := sw.s, sw.r.Context()
	var token string
	var expiry time.Time
	switch s.sessions.Status(ctx) {
	case scs.Modified:
		var err error
		if token, expiry, err = s.sessions.Commit(ctx); err != nil {
			s.logger.Error("save session", "err", err)
			return
		}
	case scs.Destroyed:
	default:
		return
	}
	// G124: Secure is set whenever the request came over HTTPS.
	c := &http.Cookie{ //nolint:gosec // G124: see above
		Name: s.sessions.Cookie.Name, Value: token, Path: "/",
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secureRequest(sw.r),
	}
	if token == "" {
		c.Expires, c.MaxAge = time.Unix(1, 0), -1
	} else {
		c.Expires = expiry.Add(time.Second).Truncate(time.Second)
		c.MaxAge = int(time.Until(expiry).Seconds() + 1)
	}
	h := sw.ResponseWriter.Header()
	h.Add("Set-Cookie", c.String())
	h.Add("Cache-Control", `no-cache="Set-Cookie"`)
}

func (sw *sessionWriter) WriteHeader(code int) {
	sw.commit()
	sw.ResponseWriter.WriteHeader(code)
}

func (sw *sessionWriter) Write(b []byte) (int, error) {
	sw.commit()
	return sw.ResponseWriter.Write(b)
}

func (sw *sessionWriter) Unwrap() http.ResponseWriter { return sw.ResponseWriter }

// csrfToken returns the session's CSRF token, making one if needed.
func (s *Server) csrfToken(ctx context.Context) string {
	if t := s.sessions.GetString(ctx, keyCSRF); t != "" {
		return t
	}
	b := make([]byte, 32)
	rand.Read(b)
	t := base64.RawURLEncoding.EncodeToString(b)
	s.sessions.Put(ctx, keyCSRF, t)
	return t
}

// checkCSRF refuses a state-changing request that comes from another site
// (Go's cross-origin protection: Sec-Fetch-Site, else Origin against Host)
// or that lacks the session's token in the X-CSRF-Token header or the
// csrf_token form field (for a visitor without a session: the signed
// token of their login cookie, see loginCSRFCookie).
func (s *Server) checkCSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		}
		if err := s.cop.Check(r); err != nil {
			s.logger.Warn("cross-origin request refused", "method", r.Method, "path", r.URL.Path,
				"origin", r.Header.Get("Origin"), "remote", s.clientIP(r))
			s.fail(w, r, parley.Errorf(parley.EFORBIDDEN, "this request came from another site and was refused"))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		want := s.sessions.GetString(r.Context(), keyCSRF)
		got := r.Header.Get("X-CSRF-Token")
		if got == "" {
			got = r.PostFormValue("csrf_token")
		}
		anon := want == "" && s.sessions.GetString(r.Context(), keyUser) == ""
		if anon && s.checkAnonCSRF(r, got) {
			next.ServeHTTP(w, r)
			return
		}
		if want == "" || subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 {
			s.logger.Warn("csrf token missing or wrong", "method", r.Method, "path", r.URL.Path, "remote", s.clientIP(r))
			msg := "the form's security token is missing or out of date: reload the page and try again"
			if want == "" {
				msg = "your session has expired: reload the page (and log in again) to continue"
			}
			s.fail(w, r, parley.Errorf(parley.EFORBIDDEN, "%s", msg))
			return
		}
		next.ServeHTTP(w, r)
	})
}

type userKey struct{}

// currentUser returns the logged-in user, or nil.
func currentUser(ctx context.Context) *parley.User {
	u, _ := ctx.Value(userKey{}).(*parley.User)
	return u
}

// loadUser returns the session's user if the session is valid: the user
// still exists and has not changed their password since logging in.
func (s *Server) loadUser(r *http.Request) (*parley.User, error) {
	ctx := r.Context()
	name := s.sessions.GetString(ctx, keyUser)
	if name == "" {
		return nil, nil
	}
	u, err := s.st.User(ctx, name)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		s.sessions.Remove(ctx, keyUser)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if u.PasswordChangedAt.UnixMilli() > s.sessions.GetInt64(ctx, keyLoginAt) {
		s.sessions.Remove(ctx, keyUser)
		s.flash(ctx, "Your password was changed: log in again.", false)
		return nil, nil
	}
	return &u, nil
}

// requireRole lets through users with at least role; others get a login
// redirect (pages) or 401 (fetch, streams, posts) or 403 (too weak a role).
func (s *Server) requireRole(role parley.Role, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := s.loadUser(r)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if u == nil {
			if r.Method == http.MethodGet && !wantsJSON(r) && r.Header.Get("Accept") != "text/event-stream" {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.writeJSON(w, http.StatusUnauthorized, map[string]any{
				"error": "you are not logged in (or your session ended): log in again", "code": "unauthorized", "login": "/login"})
			return
		}
		if !u.Role.AtLeast(role) {
			s.logger.Warn("forbidden", "user", u.Name, "role", u.Role, "path", r.URL.Path)
			s.fail(w, r, parley.Errorf(parley.EFORBIDDEN, "this needs the %s role; you are %s. Ask an admin if you need it", role, u.Role))
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey{}, u)))
	})
}

func (s *Server) flash(ctx context.Context, msg string, ok bool) {
	s.sessions.Put(ctx, keyFlash, msg)
	s.sessions.Put(ctx, keyFlashOK, ok)
}

// wantsJSON reports whether the client (app.js) asked for JSON.
func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}
