package parley_test

import (
	"net/url"
	"testing"

	"github.com/parleybot/parley"
)

func TestPlainHTTPWarning(t *testing.T) {
	for raw, warn := range map[string]bool{
		"https://mastodon.social":     false,
		"http://mastodon.social":      true,
		"HTTP://10.0.0.5:3000":        true,
		"http://127.0.0.1:8080":       false,
		"http://[::1]:8080":           false,
		"http://localhost:3000":       false,
		"http://localhost.evil.test/": true,
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		got := parley.PlainHTTPWarning("connectors.mastodon.server", u)
		if (got != "") != warn {
			t.Errorf("%s: warning %q, want a warning: %v", raw, got, warn)
		}
	}
}
