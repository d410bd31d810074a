package mastodon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomastodon "github.com/mattn/go-mastodon"
	"github.com/parleybot/parley"
)

// maxBodyBytes bounds one REST response (a page of 40 statuses is far
// smaller; this only guards memory against a broken server).
const maxBodyBytes = 32 << 20

// The JSON shapes below carry only the fields Parley reads, with lenient
// types, so one odd field from some server cannot make a whole page (and
// the mentions on it) unreadable. go-mastodon's types are used where the
// shape is ours (posting, login).

type apiAccount struct {
	ID             gomastodon.ID `json:"id"`
	Username       string        `json:"username"`
	Acct           string        `json:"acct"`
	DisplayName    string        `json:"display_name"`
	Note           string        `json:"note"`
	URL            string        `json:"url"`
	Bot            bool          `json:"bot"`
	FollowersCount flexInt       `json:"followers_count"`
	Fields         []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"fields"`
}

type apiStatus struct {
	ID          gomastodon.ID   `json:"id"`
	URI         string          `json:"uri"`
	URL         string          `json:"url"`
	CreatedAt   flexTime        `json:"created_at"`
	Account     apiAccount      `json:"account"`
	InReplyToID gomastodon.ID   `json:"in_reply_to_id"`
	Reblog      json.RawMessage `json:"reblog"`
	Content     string          `json:"content"`
	SpoilerText string          `json:"spoiler_text"`
	Visibility  string          `json:"visibility"`
	Language    string          `json:"language"`
	Tags        []struct {
		Name string `json:"name"`
	} `json:"tags"`
	Mentions []struct {
		ID   gomastodon.ID `json:"id"`
		Acct string        `json:"acct"`
	} `json:"mentions"`
}

func (s *apiStatus) isReblog() bool {
	r := strings.TrimSpace(string(s.Reblog))
	return r != "" && r != "null"
}

type apiNotification struct {
	ID        gomastodon.ID `json:"id"`
	Type      string        `json:"type"`
	CreatedAt flexTime      `json:"created_at"`
	Account   apiAccount    `json:"account"`
	Status    *apiStatus    `json:"status"`
}

// flexInt reads a JSON number or numeric string; anything else is 0.
type flexInt int64

func (n *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(strings.TrimSpace(string(b)), `"`)
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		*n = flexInt(f)
	} else {
		*n = 0
	}
	return nil
}

// flexTime reads an RFC 3339 time; anything else is the zero time.
type flexTime struct{ time.Time }

func (t *flexTime) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) != nil {
		t.Time = time.Time{}
		return nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000Z0700", "2006-01-02T15:04:05Z0700", time.DateTime} {
		if v, err := time.Parse(layout, s); err == nil {
			t.Time = v.UTC()
			return nil
		}
	}
	t.Time = time.Time{}
	return nil
}

// apiError is a non-2xx answer from the server.
type apiError struct {
	Status  int
	Message string // the server's "error" (and "error_description")
	Path    string
}

func (e *apiError) Error() string {
	msg := fmt.Sprintf("%s: %d %s", e.Path, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

func readAPIError(resp *http.Response, path string) *apiError {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e := &apiError{Status: resp.StatusCode, Path: path}
	var v struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &v) == nil {
		e.Message = v.Error
		if v.Description != "" && v.Description != v.Error {
			e.Message = strings.TrimSpace(e.Message + " " + v.Description)
		}
	}
	if len(e.Message) > 300 {
		e.Message = e.Message[:300]
	}
	return e
}

// classify maps a failed call to a parley error code:
// 429, 5xx, network and timeouts -> EUNAVAILABLE; 404/410 -> ENOTFOUND;
// other 4xx -> EINVALID. what names the action ("posting the reply").
func classify(what string, err error) error {
	if err == nil {
		return nil
	}
	var pe *parley.Error
	if errors.As(err, &pe) {
		return err
	}
	code := parley.EUNAVAILABLE
	status := 0
	var ae *apiError
	var ge *gomastodon.APIError
	var rl *rateLimitedError
	switch {
	case errors.As(err, &rl):
		status = http.StatusTooManyRequests
	case errors.As(err, &ae):
		status = ae.Status
	case errors.As(err, &ge):
		status = ge.StatusCode
	}
	switch {
	case status == 0, status == http.StatusTooManyRequests, status == http.StatusRequestTimeout, status >= 500:
		code = parley.EUNAVAILABLE
	case status == http.StatusNotFound, status == http.StatusGone:
		code = parley.ENOTFOUND
	case status == http.StatusUnauthorized, status == http.StatusForbidden:
		code = parley.EINVALID
		return parley.Errorf(code, "mastodon: %s: the server refused the access token (check token_env, or create a new token with `parley mastodon login`): %w", what, err)
	case status >= 400:
		code = parley.EINVALID
	}
	return parley.Errorf(code, "mastodon: %s: %w", what, err)
}

// api is the REST side of one account on one server.
type api struct {
	base  *url.URL
	token string
	hc    *http.Client
	mc    *gomastodon.Client
}

func newAPI(base *url.URL, token string, hc *http.Client) *api {
	mc := gomastodon.NewClient(&gomastodon.Config{Server: base.String(), AccessToken: token})
	mc.Client = *hc
	return &api{base: base, token: token, hc: hc, mc: mc}
}

func (a *api) url(path string, q url.Values) string {
	u := *a.base
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawPath = ""
	if len(q) > 0 {
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// getRaw GETs path and returns the body.
func (a *api) getRaw(ctx context.Context, path string, q url.Values) ([]byte, http.Header, error) {
	// G704: the host is the configured Mastodon server, never a remote's choice.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.url(path, q), nil) //nolint:gosec // G704: see above
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Accept", "application/json")
	resp, err := a.hc.Do(req) //nolint:gosec // G704: see above
	if err != nil {
		return nil, nil, stripURL(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, resp.Header, readAPIError(resp, path)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes+1))
	if err != nil {
		return nil, resp.Header, fmt.Errorf("%s: reading the answer: %w", path, err)
	}
	if len(body) > maxBodyBytes {
		return nil, resp.Header, fmt.Errorf("%s: answer larger than %d bytes", path, maxBodyBytes)
	}
	return body, resp.Header, nil
}

// getJSON GETs path into v.
func (a *api) getJSON(ctx context.Context, path string, q url.Values, v any) error {
	body, _, err := a.getRaw(ctx, path, q)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%s: the server's answer is not the expected JSON: %w", path, err)
	}
	return nil
}

// getList GETs a JSON array, returning its elements undecoded so that one
// malformed element spoils only itself.
func (a *api) getList(ctx context.Context, path string, q url.Values) ([]json.RawMessage, error) {
	body, _, err := a.getRaw(ctx, path, q)
	if err != nil {
		return nil, err
	}
	var items []json.RawMessage
	if err := json.Unmarshal(body, &items); err != nil {
		return nil, fmt.Errorf("%s: the server's answer is not a JSON array: %w", path, err)
	}
	return items, nil
}

// stripURL removes the request URL from a transport error: it is noise in
// messages and, for the streaming endpoint, would carry the token.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s %s: %w", ue.Op, redactURL(ue.URL), ue.Err)
	}
	return err
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(url)"
	}
	u.RawQuery = ""
	u.User = nil
	return u.String()
}

// instanceInfo is what Parley needs from the instance API.
type instanceInfo struct {
	Domain       string
	MaxChars     int
	StreamingURL string
}

// fetchInstance reads /api/v2/instance, falling back to /api/v1/instance
// (older servers, Akkoma's max_toot_chars).
func (a *api) fetchInstance(ctx context.Context) (instanceInfo, error) {
	var info instanceInfo
	var v2 struct {
		Domain        string `json:"domain"`
		Configuration struct {
			URLs struct {
				Streaming string `json:"streaming"`
			} `json:"urls"`
			Statuses struct {
				MaxCharacters flexInt `json:"max_characters"`
			} `json:"statuses"`
		} `json:"configuration"`
	}
	errV2 := a.getJSON(ctx, "/api/v2/instance", nil, &v2)
	if errV2 == nil {
		info.Domain = hostOf(v2.Domain)
		info.MaxChars = int(v2.Configuration.Statuses.MaxCharacters)
		info.StreamingURL = v2.Configuration.URLs.Streaming
		if info.MaxChars > 0 && info.Domain != "" {
			return info, nil
		}
	}
	var v1 struct {
		URI          string            `json:"uri"`
		MaxTootChars flexInt           `json:"max_toot_chars"`
		URLs         map[string]string `json:"urls"`
		Config       struct {
			Statuses struct {
				MaxCharacters flexInt `json:"max_characters"`
			} `json:"statuses"`
		} `json:"configuration"`
	}
	if err := a.getJSON(ctx, "/api/v1/instance", nil, &v1); err != nil {
		if errV2 == nil {
			return info, nil // v2 answered, only without a limit
		}
		return info, err
	}
	if info.Domain == "" {
		info.Domain = hostOf(v1.URI)
	}
	if info.MaxChars <= 0 {
		info.MaxChars = int(v1.Config.Statuses.MaxCharacters)
	}
	if info.MaxChars <= 0 {
		info.MaxChars = int(v1.MaxTootChars)
	}
	if info.StreamingURL == "" {
		info.StreamingURL = v1.URLs["streaming_api"]
	}
	return info, nil
}

// hostOf returns the host of a URL or bare domain.
func hostOf(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if strings.Contains(s, "://") {
		if u, err := url.Parse(s); err == nil {
			return strings.ToLower(u.Host)
		}
	}
	return strings.ToLower(strings.TrimRight(s, "/"))
}
