package web

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleybot/parley"
)

// The REST API (/api/v1) is for programs: JSON in and out, bearer tokens
// only (parley.TokenStore). A session cookie never authorises it, so a
// page on another site cannot make a logged-in browser call it: that is
// why it needs no CSRF token. Each route is in apiRoutes and documented
// in openapi.json (a test holds the two together).

//go:embed openapi.json
var openAPIDocument []byte

// apiRoute is one route of the REST API.
type apiRoute struct {
	method, path string // path below /api/v1, as the OpenAPI document writes it
	role         parley.Role
	handle       func(w http.ResponseWriter, r *http.Request) error
}

const apiBase = "/api/v1"

func (s *Server) apiRoutes() []apiRoute {
	agent, manager := parley.RoleAgent, parley.RoleManager
	return []apiRoute{
		{"GET", "/conversations", agent, s.apiConversations},
		{"GET", "/conversations/{id}", agent, s.apiConversation},
		{"POST", "/conversations/{id}/reply", agent, s.apiReply},
		{"POST", "/conversations/{id}/close", agent, s.apiClose},
		{"POST", "/conversations/{id}/assign", manager, s.apiAssign},
		{"GET", "/drafts", agent, s.apiDrafts},
		{"POST", "/drafts/{id}/approve", agent, s.apiApprove},
		{"POST", "/drafts/{id}/edit", agent, s.apiEdit},
		{"POST", "/drafts/{id}/reject", agent, s.apiReject},
		{"GET", "/mentions", agent, s.apiMentions},
		{"GET", "/mentions/search", agent, s.apiSearchMentions},
		{"GET", "/people/{id}", agent, s.apiPerson},
		{"GET", "/advocates", agent, s.apiAdvocates},
		{"GET", "/digests", manager, s.apiDigests},
		{"GET", "/digests/{week}", manager, s.apiDigest},
		{"GET", "/stats", agent, s.apiStats},
	}
}

// APIRoutes lists the REST API's routes as "METHOD /api/v1/path", for
// the check of the API against its OpenAPI document.
func (s *Server) APIRoutes() []string {
	var out []string
	for _, rt := range s.apiRoutes() {
		out = append(out, rt.method+" "+apiBase+rt.path)
	}
	return out
}

// apiHandler serves /api/v1/ and /api/openapi.json.
func (s *Server) apiHandler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.apiRoutes() {
		mux.Handle(rt.method+" "+apiBase+rt.path, s.apiAuth(rt))
	}
	mux.HandleFunc(apiBase+"/", func(w http.ResponseWriter, r *http.Request) {
		apiError(w, http.StatusNotFound, parley.ENOTFOUND, "there is no API route "+r.Method+" "+r.URL.Path+"; see /api/openapi.json")
	})
	mux.HandleFunc("GET /api/openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(openAPIDocument)
	})
	return mux
}

// apiError writes the API's error body. Domain errors reach it through
// apiFail; only authentication and rate limits call it directly.
func apiError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": message}})
}

// apiFail maps a domain error to its status and code (httpStatus, as
// the pages do) and writes it; internal errors are logged, not shown.
func (s *Server) apiFail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := httpStatus(err), parley.ErrorMessage(err)
	if status == http.StatusInternalServerError {
		s.logger.Error("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		msg = "something went wrong on our side; it is in the server log"
	}
	apiError(w, status, parley.ErrorCode(err), msg)
}

// apiAuth admits a request with a live token of at least rt's role,
// within its rate limit, and runs rt with the token as the acting user
// (named token:NAME, so the audit log says which program did it).
func (s *Server) apiAuth(rt apiRoute) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !parley.LooksLikeToken(strings.TrimSpace(secret)) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="parley"`)
			apiError(w, http.StatusUnauthorized, "unauthorized", "send an API token: Authorization: Bearer pk_... (parley token add)")
			return
		}
		tok, err := s.st.TokenByHash(r.Context(), parley.TokenHash(strings.TrimSpace(secret)))
		if parley.ErrorCode(err) == parley.ENOTFOUND {
			w.Header().Set("WWW-Authenticate", `Bearer realm="parley", error="invalid_token"`)
			apiError(w, http.StatusUnauthorized, "unauthorized", "this API token is unknown or was revoked")
			return
		}
		if err != nil {
			s.apiFail(w, r, err)
			return
		}
		if ok, wait := s.apiLimit.allow(strconv.FormatInt(tok.ID, 10)); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
			apiError(w, http.StatusTooManyRequests, "rate_limited",
				"this token made more than "+strconv.Itoa(s.apiLimit.n)+" requests in a minute; wait and try again")
			return
		}
		s.tokenUses.touch(r.Context(), s, tok.ID)
		if !tok.Role.AtLeast(rt.role) {
			s.apiFail(w, r, parley.Errorf(parley.EFORBIDDEN, "this needs a %s token; %s is %s", rt.role, tok.Name, tok.Role))
			return
		}
		u := &parley.User{Name: tok.Actor(), Role: tok.Role}
		r = r.WithContext(context.WithValue(r.Context(), userKey{}, u))
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		}
		if err := rt.handle(w, r); err != nil {
			s.apiFail(w, r, err)
		}
	})
}

// tokenUses writes a token's last use at most once a minute per token,
// so using the API costs no write per request.
type tokenUses struct {
	mu   sync.Mutex
	last map[int64]time.Time
}

func (u *tokenUses) touch(ctx context.Context, s *Server, id int64) {
	now := s.opts.Now()
	u.mu.Lock()
	if u.last == nil {
		u.last = map[int64]time.Time{}
	}
	if now.Sub(u.last[id]) < time.Minute {
		u.mu.Unlock()
		return
	}
	u.last[id] = now
	u.mu.Unlock()
	if err := s.st.TouchToken(ctx, id, now); err != nil {
		s.logger.Warn("record token use", "err", err)
	}
}

// apiJSON writes v with status. A GET's answer carries an ETag (a hash of
// the body) and is 304 for a client that already has it.
func apiJSON(w http.ResponseWriter, r *http.Request, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if r.Method == http.MethodGet {
		sum := sha256.Sum256(b)
		etag := `"` + hex.EncodeToString(sum[:12]) + `"`
		h.Set("ETag", etag)
		h.Set("Cache-Control", "private, no-cache")
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return nil
		}
	} else {
		h.Set("Cache-Control", "no-store")
	}
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
	return nil
}

// decodeBody reads a JSON request body into v; an empty body leaves v as
// it is. Unknown fields are refused, so a typo is not silently ignored.
func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return parley.Errorf(parley.EINVALID, "the request body is not the JSON this route takes: %v", err)
	}
	return nil
}

// A cursor is opaque to clients: the kind of list it pages and where the
// last page ended, base64url-encoded, so one list's cursor is refused by
// another.
func encodeCursor(kind, v string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + v))
}

func decodeCursor(r *http.Request, kind string) (string, error) {
	raw := r.URL.Query().Get("cursor")
	if raw == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(raw)
	v, ok := strings.CutPrefix(string(b), kind+":")
	if err != nil || !ok {
		return "", parley.Errorf(parley.EINVALID, "cursor %q is not one this list gave out", raw)
	}
	return v, nil
}

// nextCursor is the next_cursor field: null on the last page.
func nextCursor(kind, v string) *string {
	if v == "" {
		return nil
	}
	c := encodeCursor(kind, v)
	return &c
}

// apiLimit reads the limit parameter: def when absent, at most most.
func apiLimitParam(r *http.Request, def, most int) (int, error) {
	raw := r.URL.Query().Get("limit")
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > most {
		return 0, parley.Errorf(parley.EINVALID, "limit %q: want a number from 1 to %d", raw, most)
	}
	return n, nil
}

// apiTime reads an RFC 3339 time or a date (2006-01-02) parameter; ""
// is the zero time.
func apiTime(r *http.Request, key string) (time.Time, error) {
	raw := strings.TrimSpace(r.URL.Query().Get(key))
	if raw == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, raw); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, raw, time.UTC); err == nil {
		return t, nil
	}
	return time.Time{}, parley.Errorf(parley.EINVALID, "%s %q: want a date (2026-11-30) or an RFC 3339 time", key, raw)
}
