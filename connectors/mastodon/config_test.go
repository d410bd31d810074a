package mastodon

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/connectors/mastodon/mastodontest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func messages(errs []error) string {
	var b strings.Builder
	for _, e := range errs {
		b.WriteString(e.Error())
		b.WriteString("\n")
	}
	return b.String()
}

func TestConfigValidate(t *testing.T) {
	ok := env(map[string]string{"PARLEY_MASTODON_TOKEN": "secret-token"})
	assert.Empty(t, Config{Server: "https://mastodon.social", Hashtags: []string{"#acme", "acme_co"}, Keywords: []string{"acme"}, PollInterval: time.Minute}.Validate(ok))

	errs := Config{}.Validate(env(nil))
	msg := messages(errs)
	assert.Contains(t, msg, "connectors.mastodon.server: missing")
	assert.Contains(t, msg, "token_env PARLEY_MASTODON_TOKEN is not set in the environment")
	for _, e := range errs {
		assert.Equal(t, parley.EINVALID, parley.ErrorCode(e))
	}

	for server, want := range map[string]string{
		"mastodon.social":           "has no scheme; write https://mastodon.social",
		"ftp://mastodon.social":     "is not an absolute http(s) URL",
		"https://":                  "is not an absolute http(s) URL",
		"https://u:p@mastodon.test": "must not contain a user name or password",
		"https://bad host/":         "is not a URL",
	} {
		assert.Contains(t, messages(Config{Server: server}.Validate(ok)), want, server)
	}

	msg = messages(Config{Server: "https://m.example", TokenEnv: "ACME_TOKEN", Name: "acme",
		Hashtags: []string{"", "two words", "Acme", "#acme"}, Keywords: []string{" ", "x", "X"}, PollInterval: time.Second}.Validate(ok))
	for _, want := range []string{
		"connectors.mastodon[acme]: token_env ACME_TOKEN is not set in the environment (nor ACME_TOKEN_FILE",
		"hashtags[0]: empty hashtag",
		`hashtags[1]: "two words" is not a hashtag`,
		`hashtags[3]: "#acme" is listed twice`,
		"keywords[0]: empty keyword",
		`keywords[2]: "X" is listed twice`,
		"poll_interval: 1s is too short",
	} {
		assert.Contains(t, msg, want)
	}
	assert.NotContains(t, msg, "secret-token")
}

func TestConfigTokenFromFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(file, []byte("  file-token\n"), 0o600))
	c := Config{Server: "https://m.example"}
	tok, err := c.Token(env(map[string]string{"PARLEY_MASTODON_TOKEN_FILE": file}))
	require.NoError(t, err)
	assert.Equal(t, "file-token", tok)
	assert.Empty(t, c.Validate(env(map[string]string{"PARLEY_MASTODON_TOKEN_FILE": file})))

	_, err = c.Token(env(map[string]string{"PARLEY_MASTODON_TOKEN_FILE": filepath.Join(dir, "missing")}))
	assert.ErrorContains(t, err, "reading the token file named by PARLEY_MASTODON_TOKEN_FILE")
	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	_, err = c.Token(env(map[string]string{"PARLEY_MASTODON_TOKEN_FILE": empty}))
	assert.ErrorContains(t, err, "is empty")
	// The variable wins over the file.
	tok, err = c.Token(env(map[string]string{"PARLEY_MASTODON_TOKEN": "env-token", "PARLEY_MASTODON_TOKEN_FILE": file}))
	require.NoError(t, err)
	assert.Equal(t, "env-token", tok)
}

func TestConfigYAML(t *testing.T) {
	var c Config
	require.NoError(t, yaml.Unmarshal([]byte(`
server: https://mastodon.social/
token_env: ACME_TOKEN
keywords: [acme, "acme widgets"]
hashtags: ["#acme"]
poll_interval: 2m
name: main
`), &c))
	assert.Equal(t, Config{Server: "https://mastodon.social/", TokenEnv: "ACME_TOKEN", Keywords: []string{"acme", "acme widgets"}, Hashtags: []string{"#acme"}, PollInterval: 2 * time.Minute, Name: "main"}, c)
	u, err := c.ServerURL()
	require.NoError(t, err)
	assert.Equal(t, "https://mastodon.social", u.String())
	assert.Equal(t, DefaultPollInterval, Config{}.Interval())
}

func TestNewRejectsBadInput(t *testing.T) {
	_, err := New(Config{Server: "nope"}, "t", newMemCursors(), nil)
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
	_, err = New(Config{Server: "https://m.example"}, " ", newMemCursors(), nil)
	assert.ErrorContains(t, err, "empty access token")
	_, err = New(Config{Server: "https://m.example"}, "t", nil, nil)
	assert.ErrorContains(t, err, "no cursor store")
}

func TestLogin(t *testing.T) {
	srv := mastodontest.NewServer(t)
	var out bytes.Buffer
	tok, err := Login(context.Background(), srv.URL+"/", strings.NewReader(mastodontest.AuthCode+"\n"), &out, nil)
	require.NoError(t, err)
	assert.Equal(t, mastodontest.Token, tok)
	text := out.String()
	assert.Contains(t, text, "Logged in as @parley on "+strings.TrimPrefix(srv.URL, "http://"))
	assert.Contains(t, text, "export PARLEY_MASTODON_TOKEN="+mastodontest.Token)

	// The printed address is a working authorization page with the OOB
	// redirect and our scopes.
	authURL := regexp.MustCompile(`http://\S+/oauth/authorize\?\S+`).FindString(text)
	require.NotEmpty(t, authURL, text)
	assert.Contains(t, authURL, "redirect_uri=urn%3Aietf%3Awg%3Aoauth%3A2.0%3Aoob")
	assert.Contains(t, authURL, "scope=read+write")
	resp, err := http.Get(authURL)
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(page), mastodontest.AuthCode)

	var apps []mastodontest.Request
	for _, r := range srv.Requests() {
		if r.Path == "/api/v1/apps" || r.Path == "/oauth/token" || r.Path == "/api/v1/accounts/verify_credentials" {
			apps = append(apps, r)
		}
	}
	require.Len(t, apps, 3, "register, exchange, verify")
}

func TestLoginErrors(t *testing.T) {
	srv := mastodontest.NewServer(t)
	_, err := Login(context.Background(), srv.URL, strings.NewReader("wrong-code\n"), io.Discard, nil)
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err), "%v", err)
	assert.Contains(t, err.Error(), "invalid_grant")

	_, err = Login(context.Background(), srv.URL, strings.NewReader("\n"), io.Discard, nil)
	assert.ErrorContains(t, err, "no authorization code")

	_, err = Login(context.Background(), "mastodon.social", strings.NewReader(""), io.Discard, nil)
	assert.ErrorContains(t, err, "has no scheme")

	srv.Close()
	_, err = Login(context.Background(), srv.URL, strings.NewReader("x\n"), io.Discard, nil)
	assert.Equal(t, parley.EUNAVAILABLE, parley.ErrorCode(err), "%v", err)
}

func TestParseRateHeaders(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	assert.Equal(t, 2*time.Second, parseRetryAfter("2", now))
	assert.Equal(t, 1500*time.Millisecond, parseRetryAfter("1.5", now))
	assert.Equal(t, 10*time.Second, parseRetryAfter(now.Add(10*time.Second).Format(http.TimeFormat), now))
	assert.Zero(t, parseRetryAfter("soon", now))
	assert.Zero(t, parseRetryAfter("-3", now))

	r, ok := parseResetHeader("2025-01-02T03:09:05.000Z", now)
	assert.True(t, ok)
	assert.Equal(t, 5*time.Minute, r.Sub(now))
	r, ok = parseResetHeader("30", now)
	assert.True(t, ok)
	assert.Equal(t, 30*time.Second, r.Sub(now))
	_, ok = parseResetHeader("", now)
	assert.False(t, ok)
}

func TestContainsWordAndMentions(t *testing.T) {
	assert.True(t, containsWord("I love Acme!", "acme"))
	assert.True(t, containsWord("acme", "ACME"))
	assert.True(t, containsWord("über acme-widgets", "acme"))
	assert.False(t, containsWord("acmeco rocks", "acme"))
	assert.False(t, containsWord("the acmes", "acme"))
	assert.True(t, containsWord("new acme widget", "acme widget"))

	assert.True(t, mentions("@bob hi", "bob@fake.example", "fake.example"))
	assert.True(t, mentions("hi @bob.", "bob@fake.example", "fake.example"))
	assert.True(t, mentions("hi @BOB@fake.example", "bob@fake.example", "fake.example"))
	assert.False(t, mentions("@bob hi", "bob@other.example", "fake.example"), "@bob is a local user, not bob@other")
	assert.False(t, mentions("@bobby hi", "bob@fake.example", "fake.example"))
	assert.False(t, mentions("@bob@other.example", "bob@fake.example", "fake.example"))
	assert.False(t, mentions("mail bob@fake.example", "bob@fake.example", "fake.example"))
}

func TestConfigString(t *testing.T) {
	assert.Equal(t, "mastodon.social", Config{Server: "https://mastodon.social/"}.String())
	assert.Equal(t, "main", Config{Server: "https://mastodon.social", Name: "main"}.String())
}
