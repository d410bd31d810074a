// Package replay reads mentions from a replay file: JSON Lines, one mention
// a line, in the format that `parley ingest` and `parley demo` take. It also
// bundles the demo sample (see Sample).
//
// One line looks like this (wrapped here):
//
//	{"platform":"mastodon","id":"109",
//	 "author":{"id":"42","handle":"ana@example.social","name":"Ana","followers":120},
//	 "text":"...","created_at":"2026-11-02T10:00:00Z","in_reply_to":"108",
//	 "url":"https://...","channel":"..."}
//
// platform, id, author.id, text and created_at are required. Optional keys:
// author.handle, author.name, author.followers (a whole number),
// author.nobot (bool), author.timezone, in_reply_to, url (http or https),
// channel, visibility, lang, direct (bool) and thread_key. Unknown keys are
// ignored, so a file may carry more than Parley reads. A null value counts
// as absent.
package replay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/internal/textutil"
)

// Limits on one line.
const (
	// MaxTextBytes is the longest text accepted, in bytes of UTF-8.
	MaxTextBytes = 64 << 10
	// MaxLineBytes is the longest line the reader parses. A longer line is
	// skipped as a whole and reported as a LineError with an empty Field.
	MaxLineBytes = 1 << 20
	// maxShortBytes bounds ids, names, handles and the other short fields.
	maxShortBytes = 1024
	// maxURLBytes bounds url.
	maxURLBytes = 4096
)

// LineError says why one line of a replay file was not accepted.
//
// Its message reads "line 7: author.followers: want a number, got string
// \"many\"" (without "line N: " when Line is 0, as from ParseLine, and
// without the field when the whole line is at fault). It unwraps to a
// *parley.Error with code parley.EINVALID carrying the same message, whose
// cause in turn is Err, so parley.ErrorCode reports EINVALID and
// parley.ErrorMessage the full text.
type LineError struct {
	Line  int    // 1-based line number; 0 when unknown
	Field string // the JSON path of the bad field ("author.followers"), or "" for the whole line
	Err   error  // what is wrong
}

func (e *LineError) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString("invalid")
	}
	return b.String()
}

// Unwrap returns a *parley.Error with code EINVALID, the message of e, and
// e.Err as its cause.
func (e *LineError) Unwrap() error {
	return &parley.Error{Code: parley.EINVALID, Message: e.Error(), Err: e.Err}
}

func fieldErr(field, format string, args ...any) *LineError {
	return &LineError{Field: field, Err: fmt.Errorf(format, args...)}
}

// rawLine and rawAuthor hold the fields Parley reads, undecoded, so each
// can be checked and reported on its own.
type rawLine struct {
	Platform   json.RawMessage `json:"platform"`
	ID         json.RawMessage `json:"id"`
	Author     json.RawMessage `json:"author"`
	Text       json.RawMessage `json:"text"`
	CreatedAt  json.RawMessage `json:"created_at"`
	InReplyTo  json.RawMessage `json:"in_reply_to"`
	URL        json.RawMessage `json:"url"`
	Channel    json.RawMessage `json:"channel"`
	Visibility json.RawMessage `json:"visibility"`
	Lang       json.RawMessage `json:"lang"`
	Direct     json.RawMessage `json:"direct"`
	ThreadKey  json.RawMessage `json:"thread_key"`
}

type rawAuthor struct {
	ID        json.RawMessage `json:"id"`
	Handle    json.RawMessage `json:"handle"`
	Name      json.RawMessage `json:"name"`
	Followers json.RawMessage `json:"followers"`
	NoBot     json.RawMessage `json:"nobot"`
	TimeZone  json.RawMessage `json:"timezone"`
}

// ParseLine parses one replay line (without its newline) into a Mention.
//
// The Mention has Platform, ExternalID, Author (Platform, ExternalID,
// Handle, Name, Followers, NoBot, TimeZone), Text, CreatedAt (in UTC),
// InReplyTo, URL, Channel, Visibility, Lang, Direct and ThreadKey set from
// the line; Direct is also true when visibility is "direct". Everything the
// pipeline fills stays zero.
//
// On bad input it returns a *LineError (with Line 0) naming the field:
// a missing or empty required field, a value of the wrong JSON type, an
// unknown platform, invalid UTF-8 in a string, a text over MaxTextBytes, a
// created_at that is not RFC 3339, a url that is not http(s), an
// in_reply_to equal to id, or a line that is not a JSON object. The error
// unwraps to a parley.EINVALID *parley.Error. ParseLine never panics.
func ParseLine(line []byte) (parley.Mention, error) {
	if m, ok := parseFast(line); ok {
		return m, nil
	}
	return parseSlow(line)
}

// fastLine and fastAuthor decode a well-formed line in one pass.
type fastLine struct {
	Platform   string      `json:"platform"`
	ID         string      `json:"id"`
	Author     *fastAuthor `json:"author"`
	Text       string      `json:"text"`
	CreatedAt  string      `json:"created_at"`
	InReplyTo  string      `json:"in_reply_to"`
	URL        string      `json:"url"`
	Channel    string      `json:"channel"`
	Visibility string      `json:"visibility"`
	Lang       string      `json:"lang"`
	Direct     bool        `json:"direct"`
	ThreadKey  string      `json:"thread_key"`
}

type fastAuthor struct {
	ID        string `json:"id"`
	Handle    string `json:"handle"`
	Name      string `json:"name"`
	Followers int    `json:"followers"`
	NoBot     bool   `json:"nobot"`
	TimeZone  string `json:"timezone"`
}

// parseFast decodes a line that is valid in every respect, about twice as
// fast as parseSlow. It reports false for anything unusual (a number for
// an id, invalid UTF-8, any invalid field), leaving the diagnosis to
// parseSlow, which accepts everything parseFast accepts with the same
// result (FuzzParseLine checks that).
func parseFast(line []byte) (parley.Mention, bool) {
	var m parley.Mention
	if !utf8.Valid(line) {
		return m, false
	}
	var f fastLine
	if err := json.Unmarshal(line, &f); err != nil || f.Author == nil {
		return m, false
	}
	a := f.Author
	m.Platform = strings.ToLower(strings.TrimSpace(f.Platform))
	if m.Platform != parley.PlatformMastodon && m.Platform != parley.PlatformDiscord {
		return m, false
	}
	m.ExternalID, m.InReplyTo = strings.TrimSpace(f.ID), strings.TrimSpace(f.InReplyTo)
	m.Author = parley.Person{
		Platform:   m.Platform,
		ExternalID: strings.TrimSpace(a.ID),
		Handle:     a.Handle,
		Name:       a.Name,
		Followers:  a.Followers,
		NoBot:      a.NoBot,
		TimeZone:   a.TimeZone,
	}
	if m.ExternalID == "" || m.Author.ExternalID == "" || m.InReplyTo == m.ExternalID || a.Followers < 0 {
		return m, false
	}
	for _, s := range [...]string{f.Platform, f.ID, a.ID, a.Handle, a.Name, a.TimeZone, f.CreatedAt, f.InReplyTo, f.Channel, f.Visibility, f.Lang, f.ThreadKey} {
		if len(s) > maxShortBytes {
			return m, false
		}
	}
	if len(f.Text) > MaxTextBytes || strings.TrimSpace(f.Text) == "" || len(f.URL) > maxURLBytes {
		return m, false
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(f.CreatedAt))
	if err != nil {
		return m, false
	}
	if f.URL != "" && checkURL(f.URL) != nil {
		return m, false
	}
	m.Text, m.CreatedAt, m.URL = f.Text, t.UTC(), f.URL
	m.Channel, m.Visibility, m.Lang, m.ThreadKey = f.Channel, f.Visibility, f.Lang, f.ThreadKey
	m.Direct = f.Direct || f.Visibility == "direct"
	return m, true
}

// parseSlow checks one field after the other and says what is wrong with
// the first bad one.
func parseSlow(line []byte) (parley.Mention, error) {
	var m parley.Mention
	raw, err := decodeObject(line)
	if err != nil {
		return m, err
	}
	platform, err := requiredString("platform", raw.Platform, maxShortBytes)
	if err != nil {
		return m, err
	}
	switch p := strings.ToLower(strings.TrimSpace(platform)); p {
	case parley.PlatformMastodon, parley.PlatformDiscord:
		m.Platform = p
	default:
		return m, fieldErr("platform", "unknown %s: want %q or %q",
			quote(platform), parley.PlatformMastodon, parley.PlatformDiscord)
	}
	if m.ExternalID, err = requiredID("id", raw.ID); err != nil {
		return m, err
	}
	if m.Author, err = parseAuthor(raw.Author, m.Platform); err != nil {
		return m, err
	}

	if m.Text, err = requiredString("text", raw.Text, MaxTextBytes); err != nil {
		return m, err
	}
	if strings.TrimSpace(m.Text) == "" {
		return m, fieldErr("text", "empty")
	}

	created, err := requiredString("created_at", raw.CreatedAt, maxShortBytes)
	if err != nil {
		return m, err
	}
	t, perr := time.Parse(time.RFC3339Nano, strings.TrimSpace(created))
	if perr != nil {
		return m, &LineError{Field: "created_at", Err: fmt.Errorf("want an RFC 3339 time like 2026-11-02T10:00:00Z, got %s: %w", quote(created), perr)}
	}
	m.CreatedAt = t.UTC()
	return m, parseOptional(&m, raw)
}

// decodeObject decodes a line that must be one JSON object, leaving its
// fields raw.
func decodeObject(line []byte) (rawLine, error) {
	var raw rawLine
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return raw, &LineError{Err: errors.New("empty line")}
	}
	if line[0] != '{' {
		if json.Valid(line) {
			return raw, &LineError{Err: fmt.Errorf("want a JSON object, got %s", describe(line))}
		}
		return raw, &LineError{Err: notJSON(line)}
	}
	if err := json.Unmarshal(line, &raw); err != nil {
		return raw, &LineError{Err: notJSON(line)}
	}
	return raw, nil
}

// parseAuthor checks the author object of a line on platform.
func parseAuthor(v json.RawMessage, platform string) (parley.Person, error) {
	a := parley.Person{Platform: platform}
	if isAbsent(v) {
		return a, fieldErr("author", "missing")
	}
	if v[0] != '{' {
		return a, fieldErr("author", "want an object, got %s", describe(v))
	}
	var ra rawAuthor
	if err := json.Unmarshal(v, &ra); err != nil {
		// Cannot happen for a raw value the outer decode accepted, but
		// report it rather than trust that.
		return a, fieldErr("author", "%w", err)
	}
	var err error
	if a.ExternalID, err = requiredID("author.id", ra.ID); err != nil {
		return a, err
	}
	if a.Handle, err = optionalString("author.handle", ra.Handle, maxShortBytes); err != nil {
		return a, err
	}
	if a.Name, err = optionalString("author.name", ra.Name, maxShortBytes); err != nil {
		return a, err
	}
	if a.Followers, err = optionalCount("author.followers", ra.Followers); err != nil {
		return a, err
	}
	if a.NoBot, err = optionalBool("author.nobot", ra.NoBot); err != nil {
		return a, err
	}
	if a.TimeZone, err = optionalString("author.timezone", ra.TimeZone, maxShortBytes); err != nil {
		return a, err
	}
	return a, nil
}

// parseOptional checks the fields a line may leave out and sets them on m.
func parseOptional(m *parley.Mention, raw rawLine) error {
	var err error
	if m.InReplyTo, err = optionalID("in_reply_to", raw.InReplyTo); err != nil {
		return err
	}
	if m.InReplyTo != "" && m.InReplyTo == m.ExternalID {
		return fieldErr("in_reply_to", "same as id %s: a post cannot answer itself", quote(m.ExternalID))
	}
	if m.URL, err = optionalString("url", raw.URL, maxURLBytes); err != nil {
		return err
	}
	if m.URL != "" {
		if err := checkURL(m.URL); err != nil {
			return &LineError{Field: "url", Err: err}
		}
	}
	if m.Channel, err = optionalString("channel", raw.Channel, maxShortBytes); err != nil {
		return err
	}
	if m.Visibility, err = optionalString("visibility", raw.Visibility, maxShortBytes); err != nil {
		return err
	}
	if m.Lang, err = optionalString("lang", raw.Lang, maxShortBytes); err != nil {
		return err
	}
	if m.Direct, err = optionalBool("direct", raw.Direct); err != nil {
		return err
	}
	if m.Visibility == "direct" {
		m.Direct = true
	}
	if m.ThreadKey, err = optionalString("thread_key", raw.ThreadKey, maxShortBytes); err != nil {
		return err
	}
	return nil
}

// notJSON describes why line does not parse as JSON.
func notJSON(line []byte) error {
	var v any
	err := json.Unmarshal(line, &v)
	if err == nil {
		// Valid JSON, so the outer decode failed on a type: unreachable for
		// a '{' line decoded into RawMessages, but say something useful.
		return errors.New("not JSON: unexpected structure")
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("not JSON: %w (at byte %d)", err, se.Offset)
	}
	return fmt.Errorf("not JSON: %w", err)
}

func isAbsent(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// describe names the JSON type of raw and, for scalars, shows its value
// (shortened): `string "many"`, `number 12.5`, `object`, `array`.
func describe(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "a string"
		}
		return "string " + quote(s)
	case 't', 'f':
		return "boolean " + string(raw)
	case 'n':
		return "null"
	default:
		return "number " + textutil.Truncate(string(raw), 32)
	}
}

// quote returns s quoted for a message, cut to 40 runes.
func quote(s string) string {
	return strconv.Quote(textutil.Truncate(s, 40))
}

// decodeString decodes a raw JSON string, rejecting other types, invalid
// UTF-8 and values longer than limit bytes. ok is false for an absent value.
func decodeString(field string, raw json.RawMessage, limit int) (s string, ok bool, err error) {
	if isAbsent(raw) {
		return "", false, nil
	}
	if raw[0] != '"' || len(raw) < 2 {
		return "", true, fieldErr(field, "want a string, got %s", describe(raw))
	}
	body := raw[1 : len(raw)-1]
	if !utf8.Valid(body) {
		return "", true, fieldErr(field, "invalid UTF-8 at byte %d", invalidUTF8At(body))
	}
	if bytes.IndexByte(body, '\\') < 0 {
		s = string(body)
	} else if err := json.Unmarshal(raw, &s); err != nil {
		return "", true, fieldErr(field, "%w", err)
	}
	if len(s) > limit {
		return "", true, fieldErr(field, "too long: %d bytes, the limit is %d", len(s), limit)
	}
	return s, true, nil
}

// invalidUTF8At returns the offset of the first byte of b that does not
// start a valid UTF-8 sequence.
func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(b)
}

func requiredString(field string, raw json.RawMessage, limit int) (string, error) {
	s, ok, err := decodeString(field, raw, limit)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fieldErr(field, "missing")
	}
	return s, nil
}

func optionalString(field string, raw json.RawMessage, limit int) (string, error) {
	s, _, err := decodeString(field, raw, limit)
	return s, err
}

// decodeID accepts a string or a whole non-negative JSON number (some
// exports write snowflakes as numbers; the digits are kept as written).
func decodeID(field string, raw json.RawMessage) (string, bool, error) {
	if !isAbsent(raw) && raw[0] != '"' {
		if isDigits(raw) {
			return string(raw), true, nil
		}
		return "", true, fieldErr(field, "want a string, got %s", describe(raw))
	}
	s, ok, err := decodeString(field, raw, maxShortBytes)
	if err != nil || !ok {
		return "", ok, err
	}
	return strings.TrimSpace(s), true, nil
}

func isDigits(b []byte) bool {
	if len(b) == 0 || len(b) > 40 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func requiredID(field string, raw json.RawMessage) (string, error) {
	s, ok, err := decodeID(field, raw)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fieldErr(field, "missing")
	}
	if s == "" {
		return "", fieldErr(field, "empty")
	}
	return s, nil
}

// optionalID returns "" for an absent, null or blank value.
func optionalID(field string, raw json.RawMessage) (string, error) {
	s, _, err := decodeID(field, raw)
	return s, err
}

func optionalBool(field string, raw json.RawMessage) (bool, error) {
	if isAbsent(raw) {
		return false, nil
	}
	switch string(raw) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fieldErr(field, "want true or false, got %s", describe(raw))
}

func optionalCount(field string, raw json.RawMessage) (int, error) {
	if isAbsent(raw) {
		return 0, nil
	}
	c := raw[0]
	if c != '-' && (c < '0' || c > '9') {
		return 0, fieldErr(field, "want a number, got %s", describe(raw))
	}
	n, err := strconv.ParseInt(string(raw), 10, 0)
	if err != nil {
		// A fraction, an exponent or out of range.
		f, ferr := strconv.ParseFloat(string(raw), 64)
		if ferr == nil && f == float64(int64(f)) && f >= 0 && f <= 1<<53 {
			return int(f), nil
		}
		return 0, fieldErr(field, "want a whole number, got %s", describe(raw))
	}
	if n < 0 {
		return 0, fieldErr(field, "want a number 0 or more, got %d", n)
	}
	return int(n), nil
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("want an http or https URL, got %s: %w", quote(s), err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("want an http or https URL, got %s", quote(s))
	}
	return nil
}
