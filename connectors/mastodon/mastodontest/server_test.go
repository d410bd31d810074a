package mastodontest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func get(t *testing.T, s *Server, path string, q url.Values, v any) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+path+"?"+q.Encode(), nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+Token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	if v != nil {
		require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
	}
	return resp
}

func notifIDs(ns []Notification) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.ID
	}
	return out
}

func TestNotificationPaging(t *testing.T) {
	s := NewServer(t)
	alice := s.AddAccount("alice", AccountOptions{Domain: "other.example"})
	var ids []string
	for range 5 {
		_, n := s.AddMention(alice, "hi")
		ids = append(ids, n.ID)
	}
	st, _ := s.AddStatus(StatusOptions{Author: alice, Text: "no mention"})
	s.AddNotification("favourite", alice, &st)
	_, n := s.AddMention(alice, "last")
	ids = append(ids, n.ID) // 6 mentions, a favourite between the last two

	var page []Notification
	resp := get(t, s, "/api/v1/notifications", url.Values{"limit": {"2"}, "types[]": {"mention"}}, &page)
	assert.Equal(t, []string{ids[5], ids[4]}, notifIDs(page), "newest first")
	link := resp.Header.Get("Link")
	assert.Contains(t, link, "max_id="+ids[4])
	assert.Contains(t, link, `rel="next"`)
	assert.Contains(t, link, "min_id="+ids[5])
	assert.Contains(t, link, "types%5B%5D=mention")

	get(t, s, "/api/v1/notifications", url.Values{"limit": {"2"}, "min_id": {ids[0]}, "types[]": {"mention"}}, &page)
	assert.Equal(t, []string{ids[2], ids[1]}, notifIDs(page), "min_id: the page right after it")
	get(t, s, "/api/v1/notifications", url.Values{"limit": {"2"}, "since_id": {ids[0]}, "types[]": {"mention"}}, &page)
	assert.Equal(t, []string{ids[5], ids[4]}, notifIDs(page), "since_id: the newest page above it")
	get(t, s, "/api/v1/notifications", url.Values{"max_id": {ids[2]}, "types[]": {"mention"}}, &page)
	assert.Equal(t, []string{ids[1], ids[0]}, notifIDs(page))
	get(t, s, "/api/v1/notifications", url.Values{"exclude_types[]": {"mention"}}, &page)
	require.Len(t, page, 1)
	assert.Equal(t, "favourite", page[0].Type)
	resp = get(t, s, "/api/v1/notifications", url.Values{"min_id": {ids[5]}}, &page)
	assert.Empty(t, page)
	assert.Empty(t, resp.Header.Get("Link"))
}

func TestPostIdempotencyAndErrors(t *testing.T) {
	s := NewServer(t)
	post := func(key string, form url.Values) (*http.Response, Status) {
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/v1/statuses", strings.NewReader(form.Encode()))
		req.Header.Set("Authorization", "Bearer "+Token)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var st Status
		_ = json.NewDecoder(resp.Body).Decode(&st)
		return resp, st
	}
	r1, a := post("k1", url.Values{"status": {"hello #Acme https://example.com/x"}})
	r2, b := post("k1", url.Values{"status": {"hello #Acme https://example.com/x"}})
	assert.Equal(t, 200, r1.StatusCode)
	assert.Equal(t, 200, r2.StatusCode)
	assert.Equal(t, a.ID, b.ID)
	assert.Equal(t, 1, s.PostCount())
	assert.Equal(t, []StatusTag{{Name: "acme", URL: s.URL + "/tags/acme"}}, a.Tags)

	r, _ := post("", url.Values{"status": {""}})
	assert.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
	r, _ = post("", url.Values{"status": {"x"}, "in_reply_to_id": {"1"}})
	assert.Equal(t, http.StatusNotFound, r.StatusCode)
	r, _ = post("", url.Values{"status": {strings.Repeat("a", 501)}})
	assert.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)

	s.RateLimitNext(2, 1500*time.Millisecond)
	r, _ = post("", url.Values{"status": {"x"}})
	assert.Equal(t, http.StatusTooManyRequests, r.StatusCode)
	assert.Equal(t, "2", r.Header.Get("Retry-After"))
	r = get(t, s, "/api/v1/notifications", nil, nil)
	assert.Equal(t, http.StatusTooManyRequests, r.StatusCode)
	r = get(t, s, "/api/v1/notifications", nil, nil)
	assert.Equal(t, http.StatusOK, r.StatusCode)

	req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/v1/notifications", nil)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}
