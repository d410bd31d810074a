package replay

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parleybot/parley"
)

// FuzzParseLine checks that ParseLine never panics, that whatever it
// accepts has the required fields, and that whatever it rejects comes as a
// *LineError with code EINVALID. Seeds are in testdata/fuzz/FuzzParseLine.
func FuzzParseLine(f *testing.F) {
	f.Add([]byte(validLine))
	f.Add([]byte(`{"platform":"discord","id":1,"author":{"id":2},"text":"x","created_at":"2026-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"platform":"mastodon","id":"1","author":{"id":"2","followers":1e3},"text":"\ud800","created_at":"2026-01-01T00:00:00+14:00"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		m, err := ParseLine(line)
		if fm, ok := parseFast(line); ok {
			sm, serr := parseSlow(line)
			if serr != nil {
				t.Fatalf("parseFast accepts what parseSlow rejects: %v", serr)
			}
			if !reflect.DeepEqual(fm, sm) {
				t.Fatalf("parseFast and parseSlow differ:\n%+v\n%+v", fm, sm)
			}
		}
		if err != nil {
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("error %T %v is not a *LineError", err, err)
			}
			if parley.ErrorCode(err) != parley.EINVALID {
				t.Fatalf("error %v has code %q", err, parley.ErrorCode(err))
			}
			return
		}
		if m.Platform != parley.PlatformMastodon && m.Platform != parley.PlatformDiscord {
			t.Fatalf("platform %q", m.Platform)
		}
		if m.Author.Platform != m.Platform {
			t.Fatalf("author platform %q, mention platform %q", m.Author.Platform, m.Platform)
		}
		if strings.TrimSpace(m.ExternalID) == "" || strings.TrimSpace(m.Author.ExternalID) == "" {
			t.Fatalf("empty id in %+v", m)
		}
		if strings.TrimSpace(m.Text) == "" || !utf8.ValidString(m.Text) || len(m.Text) > MaxTextBytes {
			t.Fatalf("bad text %q", m.Text)
		}
		for _, s := range []string{m.ExternalID, m.Author.ExternalID, m.Author.Handle, m.Author.Name, m.InReplyTo, m.URL, m.Channel, m.Lang} {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8 in %q", s)
			}
		}
		if m.CreatedAt.Location().String() != "UTC" {
			t.Fatalf("created_at %v not in UTC", m.CreatedAt)
		}
		if m.Author.Followers < 0 {
			t.Fatalf("followers %d", m.Author.Followers)
		}
		if m.InReplyTo == m.ExternalID {
			t.Fatalf("answers itself: %q", m.InReplyTo)
		}
	})
}
