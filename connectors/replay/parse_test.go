package replay

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
)

const validLine = `{"platform":"mastodon","id":"109","author":{"id":"42","handle":"ana@example.social","name":"Ana","followers":120},"text":"hello @tidewater","created_at":"2026-11-02T10:00:00Z","in_reply_to":"108","url":"https://example.social/@ana/109","channel":"#general"}`

func TestParseLineValid(t *testing.T) {
	m, err := ParseLine([]byte(validLine))
	require.NoError(t, err)
	assert.Equal(t, parley.Mention{
		Platform:   parley.PlatformMastodon,
		ExternalID: "109",
		Author: parley.Person{
			Platform:   parley.PlatformMastodon,
			ExternalID: "42",
			Handle:     "ana@example.social",
			Name:       "Ana",
			Followers:  120,
		},
		Text:      "hello @tidewater",
		CreatedAt: time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC),
		InReplyTo: "108",
		URL:       "https://example.social/@ana/109",
		Channel:   "#general",
	}, m)
}

func TestParseLineOptionalFields(t *testing.T) {
	line := `{"platform":"discord","id":1234567890123456789,"author":{"id":987654321098765432,"handle":"kelpkid","nobot":true,"timezone":"Europe/Berlin","followers":null},
	"text":"Grüße \u00e9 \"quoted\" <script>alert(1)</script> 🛹","created_at":"2026-11-02T11:30:00.250+01:00",
	"visibility":"unlisted","lang":"de","direct":true,"thread_key":"777","extra":{"nested":[1,2,3]},"channel":null}`
	m, err := ParseLine([]byte(line))
	require.NoError(t, err)
	assert.Equal(t, parley.PlatformDiscord, m.Platform)
	assert.Equal(t, "1234567890123456789", m.ExternalID, "a numeric id keeps its digits")
	assert.Equal(t, "987654321098765432", m.Author.ExternalID)
	assert.Equal(t, parley.PlatformDiscord, m.Author.Platform)
	assert.True(t, m.Author.NoBot)
	assert.Equal(t, "Europe/Berlin", m.Author.TimeZone)
	assert.Zero(t, m.Author.Followers)
	assert.Equal(t, `Grüße é "quoted" <script>alert(1)</script> 🛹`, m.Text)
	assert.Equal(t, time.Date(2026, 11, 2, 10, 30, 0, 250e6, time.UTC), m.CreatedAt)
	assert.Equal(t, time.UTC, m.CreatedAt.Location())
	assert.Equal(t, "unlisted", m.Visibility)
	assert.Equal(t, "de", m.Lang)
	assert.True(t, m.Direct)
	assert.Equal(t, "777", m.ThreadKey)
	assert.Empty(t, m.Channel)
}

func TestParseLineDirectVisibility(t *testing.T) {
	m, err := ParseLine([]byte(strings.Replace(validLine, `"channel"`, `"visibility":"direct","channel"`, 1)))
	require.NoError(t, err)
	assert.True(t, m.Direct, "Mastodon direct visibility is a direct message")
}

func TestParseLinePlatformCase(t *testing.T) {
	m, err := ParseLine([]byte(strings.Replace(validLine, `"mastodon"`, `" Mastodon"`, 1)))
	require.NoError(t, err)
	assert.Equal(t, parley.PlatformMastodon, m.Platform)
}

// set replaces the first occurrence of old in validLine.
func set(old, repl string) string {
	if !strings.Contains(validLine, old) {
		panic("validLine has no " + old)
	}
	return strings.Replace(validLine, old, repl, 1)
}

func TestParseLineErrors(t *testing.T) {
	long := strings.Repeat("a", 1_000_000)
	cases := []struct {
		name, line, field, msg string
	}{
		{"truncated", `{"platform":"mastodon","id":`, "", "not JSON: unexpected end of JSON input"},
		{"garbage", `platform=mastodon`, "", "not JSON: invalid character 'p' looking for beginning of value"},
		{"trailing data", validLine + ` x`, "", "not JSON: invalid character 'x' after top-level value"},
		{"bad syntax", `{"platform":"mastodon",,}`, "", "not JSON: invalid character ',' looking for beginning of object key string (at byte 24)"},
		{"array", `[1,2,3]`, "", "want a JSON object, got an array"},
		{"string", `"hello"`, "", `want a JSON object, got string "hello"`},
		{"null", `null`, "", "want a JSON object, got null"},
		{"empty", `   `, "", "empty line"},

		{"missing platform", set(`"platform":"mastodon",`, ``), "platform", "missing"},
		{"missing id", set(`"id":"109",`, ``), "id", "missing"},
		{"missing author", set(`"author":{"id":"42","handle":"ana@example.social","name":"Ana","followers":120},`, ``), "author", "missing"},
		{"missing author.id", set(`"id":"42",`, ``), "author.id", "missing"},
		{"missing text", set(`"text":"hello @tidewater",`, ``), "text", "missing"},
		{"missing created_at", set(`"created_at":"2026-11-02T10:00:00Z",`, ``), "created_at", "missing"},
		{"null text", set(`"text":"hello @tidewater"`, `"text":null`), "text", "missing"},
		{"empty id", set(`"id":"109"`, `"id":" "`), "id", "empty"},
		{"empty author.id", set(`"id":"42"`, `"id":""`), "author.id", "empty"},
		{"empty text", set(`"text":"hello @tidewater"`, `"text":" \n\t"`), "text", "empty"},

		{"followers string", set(`"followers":120`, `"followers":"many"`), "author.followers", `want a number, got string "many"`},
		{"followers negative", set(`"followers":120`, `"followers":-5`), "author.followers", "want a number 0 or more, got -5"},
		{"followers fraction", set(`"followers":120`, `"followers":1.5`), "author.followers", "want a whole number, got number 1.5"},
		{"followers huge", set(`"followers":120`, `"followers":1e300`), "author.followers", "want a whole number, got number 1e300"},
		{"followers object", set(`"followers":120`, `"followers":{}`), "author.followers", "want a number, got an object"},
		{"id bool", set(`"id":"109"`, `"id":true`), "id", "want a string, got boolean true"},
		{"id negative number", set(`"id":"109"`, `"id":-109`), "id", "want a string, got number -109"},
		{"text number", set(`"text":"hello @tidewater"`, `"text":42`), "text", "want a string, got number 42"},
		{"author string", set(`"author":{"id":"42","handle":"ana@example.social","name":"Ana","followers":120}`, `"author":"ana"`), "author", `want an object, got string "ana"`},
		{"name array", set(`"name":"Ana"`, `"name":["Ana"]`), "author.name", "want a string, got an array"},
		{"direct string", set(`"channel"`, `"direct":"yes","channel"`), "direct", `want true or false, got string "yes"`},
		{"nobot number", set(`"name":"Ana"`, `"name":"Ana","nobot":1`), "author.nobot", "want true or false, got number 1"},
		{"unknown platform", set(`"mastodon"`, `"twitter"`), "platform", `unknown "twitter": want "mastodon" or "discord"`},
		{"platform number", set(`"mastodon"`, `7`), "platform", "want a string, got number 7"},

		{"invalid UTF-8 text", set(`"text":"hello @tidewater"`, "\"text\":\"hello wor\xffld\""), "text", "invalid UTF-8 at byte 9"},
		{"invalid UTF-8 name", set(`"name":"Ana"`, "\"name\":\"An\xc3\""), "author.name", "invalid UTF-8 at byte 2"},
		{"1 MB text", set(`"text":"hello @tidewater"`, `"text":"`+long+`"`), "text", "too long: 1000000 bytes, the limit is 65536"},
		{"bad time", set(`"2026-11-02T10:00:00Z"`, `"yesterday"`), "created_at", `want an RFC 3339 time like 2026-11-02T10:00:00Z, got "yesterday"`},
		{"time without zone", set(`"2026-11-02T10:00:00Z"`, `"2026-11-02 10:00:00"`), "created_at", `want an RFC 3339 time`},
		{"time number", set(`"2026-11-02T10:00:00Z"`, `1762077600`), "created_at", "want a string, got number 1762077600"},
		{"javascript url", set(`"https://example.social/@ana/109"`, `"javascript:alert(1)"`), "url", `want an http or https URL, got "javascript:alert(1)"`},
		{"relative url", set(`"https://example.social/@ana/109"`, `"/@ana/109"`), "url", `want an http or https URL, got "/@ana/109"`},
		{"reply to itself", set(`"in_reply_to":"108"`, `"in_reply_to":"109"`), "in_reply_to", `same as id "109": a post cannot answer itself`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseLine([]byte(tc.line))
			require.Error(t, err)
			var le *LineError
			require.ErrorAs(t, err, &le)
			assert.Equal(t, 0, le.Line)
			assert.Equal(t, tc.field, le.Field)
			if tc.field != "" {
				assert.Contains(t, err.Error(), tc.field+": "+tc.msg)
				assert.True(t, strings.HasPrefix(err.Error(), tc.field+": "), err.Error())
			} else {
				assert.Contains(t, err.Error(), tc.msg)
			}
			assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
			assert.Equal(t, err.Error(), parley.ErrorMessage(err))
			assert.Less(t, len(err.Error()), 300, "the message quotes no more than a little of the value")
		})
	}
}

func TestParseLineTextLimit(t *testing.T) {
	text := strings.Repeat("é", MaxTextBytes/2) // exactly MaxTextBytes bytes
	m, err := ParseLine([]byte(set(`"text":"hello @tidewater"`, `"text":"`+text+`"`)))
	require.NoError(t, err)
	assert.Len(t, m.Text, MaxTextBytes)

	_, err = ParseLine([]byte(set(`"text":"hello @tidewater"`, `"text":"`+text+`a"`)))
	var le *LineError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, "text", le.Field)
}

func TestParseLineUnknownKeysIgnored(t *testing.T) {
	m, err := ParseLine([]byte(set(`"channel"`, `"favourites":"lots","media":[{"x":1}],"channel"`)))
	require.NoError(t, err)
	assert.Equal(t, "109", m.ExternalID)
}

func TestLineErrorFormat(t *testing.T) {
	cause := errors.New(`want a number, got string "many"`)
	e := &LineError{Line: 7, Field: "author.followers", Err: cause}
	assert.Equal(t, `line 7: author.followers: want a number, got string "many"`, e.Error())
	assert.ErrorIs(t, e, cause)
	var pe *parley.Error
	require.ErrorAs(t, e, &pe)
	assert.Equal(t, parley.EINVALID, pe.Code)
	assert.Equal(t, e.Error(), pe.Message)

	assert.Equal(t, "line 4: not JSON: x", (&LineError{Line: 4, Err: errors.New("not JSON: x")}).Error())
	assert.Equal(t, "text: empty", (&LineError{Field: "text", Err: errors.New("empty")}).Error())
}

func TestParseLineEmptyOptionalID(t *testing.T) {
	m, err := ParseLine([]byte(set(`"in_reply_to":"108"`, `"in_reply_to":""`)))
	require.NoError(t, err)
	assert.Empty(t, m.InReplyTo)
	m, err = ParseLine([]byte(set(`"in_reply_to":"108"`, `"in_reply_to":108`)))
	require.NoError(t, err)
	assert.Equal(t, "108", m.InReplyTo)
}
