package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"
)

// loginCSRFCookie carries the CSRF token of a visitor who is not logged
// in. Such a visitor gets no session (a session is a database row, and
// anonymous requests must not write to the database): the login form is
// protected by a signed double-submit token instead. The cookie and the
// form carry the same token, random bytes signed with a key that lives
// only in this process, so a cookie planted from another site cannot be
// made to match, and a restart only asks the visitor to reload the form.
const loginCSRFCookie = "parley_login_csrf"

func newCSRFKey() []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}

// anonToken returns a fresh signed token: base64(nonce).base64(mac).
func (s *Server) anonToken() string {
	n := make([]byte, 24)
	rand.Read(n)
	nonce := base64.RawURLEncoding.EncodeToString(n)
	return nonce + "." + s.anonMAC(nonce)
}

func (s *Server) anonMAC(nonce string) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte("parley login csrf\x00" + nonce))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// validAnonToken reports whether t is a token this process signed.
func (s *Server) validAnonToken(t string) bool {
	nonce, mac, ok := strings.Cut(t, ".")
	return ok && nonce != "" && hmac.Equal([]byte(mac), []byte(s.anonMAC(nonce)))
}

// anonCSRF returns the visitor's login-form token: the one in their
// cookie when it is valid, else a fresh one set in the cookie.
func (s *Server) anonCSRF(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(loginCSRFCookie); err == nil && s.validAnonToken(c.Value) {
		return c.Value
	}
	t := s.anonToken()
	//nolint:gosec // G124: Secure is decided per request (plain http://127.0.0.1 must work), as for the session cookie
	http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Value: t, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.secureRequest(r), MaxAge: 12 * 3600})
	return t
}

// checkAnonCSRF reports whether a request of a visitor without a session
// token carries the token of its cookie, signed by this process.
func (s *Server) checkAnonCSRF(r *http.Request, got string) bool {
	c, err := r.Cookie(loginCSRFCookie)
	return err == nil && s.validAnonToken(c.Value) && subtle.ConstantTimeCompare([]byte(c.Value), []byte(got)) == 1
}

// pageCSRF is the CSRF token a page carries: the session's for a
// logged-in user (or a session that already has one), else the signed
// cookie token, which writes nothing to the database.
func (s *Server) pageCSRF(w http.ResponseWriter, r *http.Request) string {
	ctx := r.Context()
	if s.sessions.GetString(ctx, keyUser) != "" || s.sessions.GetString(ctx, keyCSRF) != "" {
		return s.csrfToken(ctx)
	}
	return s.anonCSRF(w, r)
}
