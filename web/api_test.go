package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/web"
)

// apiFixture is a server with data behind every API route and a token
// of each role.
type apiFixture struct {
	*testEnv
	admin, manager, agent string // tokens
	drafts                []int64
	conv, person          int64
}

func newAPIFixture(t *testing.T, opts ...envOption) *apiFixture {
	t.Helper()
	ctx := context.Background()
	f := &apiFixture{testEnv: newEnv(t, opts...)}
	f.drafts = f.ingest(
		mention("1", "jules", "the new wheels are sick", parley.Positive, 842, 0),
		mention("2", "gus", "my order never arrived, where is it", parley.Negative, 10, 1),
		mention("3", "mia", "which bearings for a street deck?", parley.Neutral, 50, 2),
	)
	d, err := f.st.Draft(ctx, f.drafts[1])
	require.NoError(t, err)
	f.conv, f.person = d.ThreadID, d.PersonID
	f.addUser("ana", parley.RoleAgent, "password-ana")
	_, err = f.st.AddNote(ctx, f.person, "ana", "called them about the parcel")
	require.NoError(t, err)
	_, err = f.st.SaveAdvocates(ctx, []parley.AdvocateUpdate{
		{PersonID: f.person, Score: 0.82, From: "", To: parley.AdvocateCandidate, Reason: "warm"}}, t0)
	require.NoError(t, err)
	saveDigest(t, f.st, parley.DigestRecord{Week: "2026-W46", Status: parley.DigestStored, BuiltAt: t0,
		Summary: "3 mentions", Markdown: "# Week 46\n", HTML: "<p>46</p>"})
	for _, tk := range []struct {
		dst  *string
		role parley.Role
	}{{&f.admin, parley.RoleAdmin}, {&f.manager, parley.RoleManager}, {&f.agent, parley.RoleAgent}} {
		*tk.dst, _, err = web.AddToken(ctx, f.st, string(tk.role)+"-bot", tk.role, "test")
		require.NoError(t, err)
	}
	return f
}

// call sends an API request with token and returns the response and its
// body.
func (f *apiFixture) call(token, method, path string, body any) (*http.Response, []byte) {
	f.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(f.t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, f.url+path, rd)
	require.NoError(f.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(f.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(f.t, err)
	return res, b
}

// apiCall is one request of the OpenAPI check: a documented operation
// (path as documented) with concrete values.
type apiCall struct {
	method, path string // as in the document
	params       map[string]string
	query        string
	body         any
	token        string
	status       int
}

func TestAPIMatchesOpenAPI(t *testing.T) {
	f := newAPIFixture(t)
	ctx := context.Background()

	res, raw := f.call("", http.MethodGet, "/api/openapi.json", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(loader.Context), "the document is valid OpenAPI 3")

	// The mux's routes under /api/v1 and the document's are the same.
	var documented []string
	for p, item := range doc.Paths.Map() {
		for m := range item.Operations() {
			documented = append(documented, m+" /api/v1"+p)
		}
	}
	served := f.srv.APIRoutes()
	sort.Strings(documented)
	sort.Strings(served)
	assert.Equal(t, documented, served, "every route served is documented and every documented route is served")

	id := func(v int64) string { return fmt.Sprint(v) }
	d0, d1, d2 := id(f.drafts[0]), id(f.drafts[1]), id(f.drafts[2])
	calls := []apiCall{
		{"GET", "/conversations", nil, "", nil, f.agent, 200},
		{"GET", "/conversations", nil, "view=all&limit=1", nil, f.agent, 200},
		{"GET", "/conversations", nil, "q=order&sentiment=negative&platform=mastodon", nil, f.agent, 200},
		{"GET", "/conversations", nil, "view=nonsense", nil, f.agent, 422},
		{"GET", "/conversations/{id}", map[string]string{"id": id(f.conv)}, "", nil, f.agent, 200},
		{"GET", "/conversations/{id}", map[string]string{"id": "99999"}, "", nil, f.agent, 404},
		{"GET", "/drafts", nil, "", nil, f.agent, 200},
		{"GET", "/drafts", nil, "limit=1", nil, f.agent, 200},
		{"GET", "/drafts", nil, "state=nope", nil, f.agent, 422},
		{"POST", "/drafts/{id}/edit", map[string]string{"id": d0}, "", map[string]any{"text": "Thanks Jules, enjoy them!"}, f.agent, 200},
		{"POST", "/drafts/{id}/approve", map[string]string{"id": d0}, "", map[string]any{}, f.agent, 200},
		{"POST", "/drafts/{id}/approve", map[string]string{"id": d0}, "", map[string]any{}, f.agent, 409},
		{"POST", "/drafts/{id}/edit", map[string]string{"id": d0}, "", map[string]any{"text": "late"}, f.agent, 409},
		{"POST", "/drafts/{id}/reject", map[string]string{"id": d2}, "", map[string]any{"reason": "answered in DM"}, f.agent, 200},
		{"POST", "/drafts/{id}/reject", map[string]string{"id": "99999"}, "", map[string]any{}, f.agent, 404},
		{"POST", "/conversations/{id}/reply", map[string]string{"id": id(f.conv)}, "",
			map[string]any{"text": "Sorry Gus, it ships today."}, f.agent, 201},
		{"POST", "/conversations/{id}/reply", map[string]string{"id": id(f.conv)}, "", map[string]any{"text": " "}, f.agent, 422},
		{"POST", "/conversations/{id}/assign", map[string]string{"id": id(f.conv)}, "", map[string]any{"user": "ana"}, f.manager, 200},
		{"POST", "/conversations/{id}/assign", map[string]string{"id": id(f.conv)}, "", map[string]any{"user": "ana"}, f.agent, 403},
		{"POST", "/conversations/{id}/close", map[string]string{"id": id(f.conv)}, "", map[string]any{"reason": "sorted"}, f.agent, 200},
		{"GET", "/mentions", nil, "", nil, f.agent, 200},
		{"GET", "/mentions", nil, "limit=2&platform=mastodon&since=2020-01-01", nil, f.agent, 200},
		{"GET", "/mentions", nil, "since=yesterday", nil, f.agent, 422},
		{"GET", "/mentions/search", nil, "q=order", nil, f.agent, 200},
		{"GET", "/mentions/search", nil, "q=%40jules&limit=1", nil, f.agent, 200},
		{"GET", "/people/{id}", map[string]string{"id": id(f.person)}, "", nil, f.agent, 200},
		{"GET", "/people/{id}", map[string]string{"id": "99999"}, "", nil, f.agent, 404},
		{"GET", "/advocates", nil, "", nil, f.agent, 200},
		{"GET", "/advocates", nil, "state=candidate&limit=1", nil, f.agent, 200},
		{"GET", "/digests", nil, "", nil, f.manager, 200},
		{"GET", "/digests", nil, "", nil, f.agent, 403},
		{"GET", "/digests/{week}", map[string]string{"week": "2026-W46"}, "", nil, f.manager, 200},
		{"GET", "/digests/{week}", map[string]string{"week": "2026-W01"}, "", nil, f.manager, 404},
		{"GET", "/stats", nil, "", nil, f.agent, 200},
		{"GET", "/stats", nil, "", nil, "", 401},
	}
	_ = d1
	succeeded := map[string]bool{}
	for _, c := range calls {
		name := fmt.Sprintf("%s %s?%s (%d)", c.method, c.path, c.query, c.status)
		item := doc.Paths.Find(c.path)
		require.NotNil(t, item, "%s is documented", name)
		op := item.GetOperation(c.method)
		require.NotNil(t, op, "%s is documented", name)
		p := c.path
		for k, v := range c.params {
			p = strings.ReplaceAll(p, "{"+k+"}", url.PathEscape(v))
		}
		p = "/api/v1" + p
		if c.query != "" {
			p += "?" + c.query
		}
		res, body := f.call(c.token, c.method, p, c.body)
		require.Equal(t, c.status, res.StatusCode, "%s: %s", name, body)
		if res.StatusCode < 300 {
			succeeded[c.method+" "+c.path] = true
		}
		validateAPIExchange(t, doc, c, item, op, res, body)
	}
	for _, r := range served {
		m, p, _ := strings.Cut(r, " ")
		assert.True(t, succeeded[m+" "+strings.TrimPrefix(p, "/api/v1")], "%s was called and succeeded", r)
	}

	d, err := f.st.Draft(ctx, f.drafts[0])
	require.NoError(t, err)
	assert.Equal(t, parley.DraftApproved, d.State)
	assert.Equal(t, "Thanks Jules, enjoy them!", d.Text)
	assert.Equal(t, "token:agent-bot", d.DecidedBy)
}

// validateAPIExchange checks a request and its response against the
// documented operation: parameters, body, status (it must be documented)
// and the response body's schema.
func validateAPIExchange(t *testing.T, doc *openapi3.T, c apiCall, item *openapi3.PathItem, op *openapi3.Operation, res *http.Response, body []byte) {
	t.Helper()
	ctx := context.Background()
	var rd io.Reader = http.NoBody
	if c.body != nil {
		b, _ := json.Marshal(c.body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(c.method, "http://parley/api/v1"+c.path+"?"+c.query, rd)
	require.NoError(t, err)
	if c.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: c.params,
		Route:   &routers.Route{Spec: doc, Path: c.path, PathItem: item, Method: c.method, Operation: op},
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	if c.status < 300 {
		assert.NoError(t, openapi3filter.ValidateRequest(ctx, in), "request %s %s?%s", c.method, c.path, c.query)
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: res.StatusCode, Header: res.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true}}
	out.SetBodyBytes(body)
	assert.NoError(t, openapi3filter.ValidateResponse(ctx, out), "response to %s %s?%s: %s", c.method, c.path, c.query, body)
	assert.True(t, slices.Contains([]string{"application/json"}, res.Header.Get("Content-Type")), res.Header.Get("Content-Type"))
}

func TestAPIPaginatesWithCursors(t *testing.T) {
	f := newAPIFixture(t)
	type page struct {
		Mentions []parley.Mention `json:"mentions"`
		Drafts   []parley.Draft   `json:"drafts"`
		Next     *string          `json:"next_cursor"`
	}
	for _, list := range []string{"/api/v1/mentions?limit=2", "/api/v1/drafts?limit=2", "/api/v1/mentions/search?q=the+OR+order&limit=1"} {
		var ids []int64
		next := list
		for range 10 {
			res, b := f.call(f.agent, "GET", next, nil)
			require.Equal(t, http.StatusOK, res.StatusCode, "%s: %s", next, b)
			var p page
			require.NoError(t, json.Unmarshal(b, &p))
			for _, m := range p.Mentions {
				ids = append(ids, m.ID)
			}
			for _, d := range p.Drafts {
				ids = append(ids, d.ID)
			}
			if p.Next == nil {
				break
			}
			next = list + "&cursor=" + url.QueryEscape(*p.Next)
		}
		if strings.Contains(list, "search") {
			continue // the query's words decide how many match
		}
		assert.Len(t, ids, 3, "%s: every row once", list)
		assert.Len(t, slices.Compact(slices.Sorted(slices.Values(ids))), len(ids), "%s: no row twice", list)
	}
	res, b := f.call(f.agent, "GET", "/api/v1/drafts?cursor=bm9wZQ", nil)
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "%s", b)
	assert.JSONEq(t, `{"error":{"code":"invalid","message":"cursor \"bm9wZQ\" is not one this list gave out"}}`, string(b))
}

func TestAPIGetHasETag(t *testing.T) {
	f := newAPIFixture(t)
	res, _ := f.call(f.agent, "GET", "/api/v1/stats", nil)
	etag := res.Header.Get("ETag")
	require.NotEmpty(t, etag)
	req, err := http.NewRequest("GET", f.url+"/api/v1/stats", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+f.agent)
	req.Header.Set("If-None-Match", etag)
	res2, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res2.Body.Close()
	assert.Equal(t, http.StatusNotModified, res2.StatusCode)
	f.ingest(mention("4", "zed", "new here", parley.Neutral, 1, 9))
	res3, _ := f.call(f.agent, "GET", "/api/v1/stats", nil)
	assert.NotEqual(t, etag, res3.Header.Get("ETag"), "a change changes the tag")
}

func TestAPIAgentTokenCannotDoManagerThings(t *testing.T) {
	f := newAPIFixture(t)
	res, b := f.call(f.agent, "POST", fmt.Sprintf("/api/v1/conversations/%d/assign", f.conv), map[string]any{"user": "ana"})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.JSONEq(t, `{"error":{"code":"forbidden","message":"this needs a manager token; agent-bot is agent"}}`, string(b))
	res, _ = f.call(f.agent, "GET", "/api/v1/digests", nil)
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	c, err := f.st.Conversation(context.Background(), f.conv)
	require.NoError(t, err)
	assert.Empty(t, c.Assignee, "nothing changed")
	res, _ = f.call(f.manager, "GET", "/api/v1/digests", nil)
	assert.Equal(t, http.StatusOK, res.StatusCode)
}

func TestAPIRevokedTokenIsRefusedAtOnce(t *testing.T) {
	f := newAPIFixture(t)
	res, _ := f.call(f.agent, "GET", "/api/v1/stats", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	tokens, err := f.st.Tokens(context.Background())
	require.NoError(t, err)
	i := slices.IndexFunc(tokens, func(t parley.APIToken) bool { return t.Name == "agent-bot" })
	require.GreaterOrEqual(t, i, 0)
	assert.False(t, tokens[i].LastUsedAt.IsZero(), "the use is recorded")

	require.NoError(t, f.st.RevokeToken(context.Background(), "agent-bot"))
	res, b := f.call(f.agent, "GET", "/api/v1/stats", nil)
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.JSONEq(t, `{"error":{"code":"unauthorized","message":"this API token is unknown or was revoked"}}`, string(b))
	assert.Contains(t, res.Header.Get("WWW-Authenticate"), "Bearer")
	res, _ = f.call("pk_"+strings.Repeat("x", 43), "GET", "/api/v1/stats", nil)
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "an unknown token")
	res, _ = f.call("hunter2", "GET", "/api/v1/stats", nil)
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "not a token at all")
}

func TestAPIApproveIsAuditedUnderTheToken(t *testing.T) {
	f := newAPIFixture(t)
	ctx := context.Background()
	res, b := f.call(f.agent, "POST", fmt.Sprintf("/api/v1/drafts/%d/approve", f.drafts[1]), map[string]any{"text": "On its way, Gus!"})
	require.Equal(t, http.StatusOK, res.StatusCode, "%s", b)
	var d parley.Draft
	require.NoError(t, json.Unmarshal(b, &d))
	assert.Equal(t, parley.DraftApproved, d.State)
	entries, err := f.st.AuditEntries(ctx, parley.AuditFilter{Actor: "token:agent-bot", DraftID: f.drafts[1]})
	require.NoError(t, err)
	require.NotEmpty(t, entries, "the approval is in the audit log under the token")
	assert.Equal(t, "approve", entries[0].Action)

	// The same draft approved again: 409 saying who approved it.
	res, b = f.call(f.manager, "POST", fmt.Sprintf("/api/v1/drafts/%d/approve", f.drafts[1]), nil)
	assert.Equal(t, http.StatusConflict, res.StatusCode)
	var e struct {
		Error struct{ Code, Message string }
	}
	require.NoError(t, json.Unmarshal(b, &e))
	assert.Equal(t, "conflict", e.Error.Code)
	assert.Contains(t, e.Error.Message, "already approved by token:agent-bot")
}

func TestAPIRateLimitPerToken(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	var mu = make(chan struct{}, 1)
	clock := func() time.Time { mu <- struct{}{}; defer func() { <-mu }(); return now }
	f := newAPIFixture(t, func(_ *web.Config, o *web.Options) { o.APIRateLimit = 5; o.Now = clock })
	for i := range 5 {
		res, _ := f.call(f.agent, "GET", "/api/v1/stats", nil)
		require.Equal(t, http.StatusOK, res.StatusCode, "request %d", i+1)
	}
	res, b := f.call(f.agent, "GET", "/api/v1/stats", nil)
	assert.Equal(t, http.StatusTooManyRequests, res.StatusCode)
	assert.Equal(t, "60", res.Header.Get("Retry-After"))
	assert.Contains(t, string(b), `"code":"rate_limited"`)
	res, _ = f.call(f.manager, "GET", "/api/v1/stats", nil)
	assert.Equal(t, http.StatusOK, res.StatusCode, "another token has its own budget")
	mu <- struct{}{}
	now = now.Add(61 * time.Second)
	<-mu
	res, _ = f.call(f.agent, "GET", "/api/v1/stats", nil)
	assert.Equal(t, http.StatusOK, res.StatusCode, "a minute later it may go on")
}

func TestAPISessionCookieDoesNotAuthorize(t *testing.T) {
	f := newAPIFixture(t)
	c := f.loggedIn("boss", parley.RoleAdmin)
	res, body := c.get("/api/v1/stats")
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode, body)
	res, body = c.post(fmt.Sprintf("/api/v1/drafts/%d/approve", f.drafts[0]), nil)
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode, body)
	assert.Equal(t, parley.DraftPending, f.draft(f.drafts[0]).State)
	assert.Empty(t, res.Header.Values("Set-Cookie"), "the API neither reads nor writes sessions")
}
