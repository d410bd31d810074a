package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
)

// fakeSink collects what it is given. If block is set, each Submit waits
// for a value on it (or for ctx). If failAt > 0, the failAt-th Submit
// returns errSink.
type fakeSink struct {
	mu       sync.Mutex
	mentions []parley.Mention
	block    chan struct{}
	entered  chan struct{}
	failAt   int
	calls    int
}

var errSink = errors.New("pipeline closed")

func (s *fakeSink) Submit(ctx context.Context, m parley.Mention) error {
	s.mu.Lock()
	s.calls++
	fail := s.failAt > 0 && s.calls == s.failAt
	s.mu.Unlock()
	if s.entered != nil {
		s.entered <- struct{}{}
	}
	if s.block != nil {
		select {
		case <-s.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if fail {
		return errSink
	}
	s.mu.Lock()
	s.mentions = append(s.mentions, m)
	s.mu.Unlock()
	return nil
}

func (s *fakeSink) ids() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for _, m := range s.mentions {
		ids = append(ids, m.ExternalID)
	}
	return ids
}

// line returns a valid replay line for id.
func line(id string) string {
	return fmt.Sprintf(`{"platform":"discord","id":%q,"author":{"id":"u%s"},"text":"message %s","created_at":"2026-11-02T10:00:00Z"}`, id, id, id)
}

func run(t *testing.T, input string) (*Source, *fakeSink, []LineError) {
	t.Helper()
	var errs []LineError
	src := NewSource(strings.NewReader(input), Options{OnError: func(e LineError) { errs = append(errs, e) }})
	sink := &fakeSink{}
	require.NoError(t, src.Run(context.Background(), sink))
	return src, sink, errs
}

func TestRunDeliversValidLinesAroundBadOnes(t *testing.T) {
	input := strings.Join([]string{
		line("1"),
		`{"platform":"discord","id":"2",`, // 2: not JSON
		"",                                // 3: blank
		line("4"),
		"   \t", // 5: blank
		strings.Replace(line("6"), `"u6"}`, `"u6","followers":"many"}`, 1),        // 6
		strings.Replace(line("7"), `"discord"`, `"myspace"`, 1),                   // 7
		strings.Replace(line("8"), "message 8", "bad \xfe byte", 1),               // 8
		strings.Replace(line("9"), `,"created_at":"2026-11-02T10:00:00Z"`, ``, 1), // 9
		line("10"),
	}, "\n") + "\n"
	src, sink, errs := run(t, input)

	assert.Equal(t, []string{"1", "4", "10"}, sink.ids())
	require.Len(t, errs, 5)
	want := []struct {
		line  int
		field string
		msg   string
	}{
		{2, "", "line 2: not JSON: unexpected end of JSON input"},
		{6, "author.followers", `line 6: author.followers: want a number, got string "many"`},
		{7, "platform", `line 7: platform: unknown "myspace": want "mastodon" or "discord"`},
		{8, "text", "line 8: text: invalid UTF-8 at byte 4"},
		{9, "created_at", "line 9: created_at: missing"},
	}
	for i, w := range want {
		assert.Equal(t, w.line, errs[i].Line)
		assert.Equal(t, w.field, errs[i].Field)
		assert.True(t, strings.HasPrefix(errs[i].Error(), w.msg), "%q does not start with %q", errs[i].Error(), w.msg)
		assert.Equal(t, parley.EINVALID, parley.ErrorCode(&errs[i]))
	}
	assert.Equal(t, int64(10), src.Lines())
	assert.Equal(t, int64(5), src.Errors())
	assert.Equal(t, int64(3), src.Mentions())
	assert.Equal(t, int64(len(input)), src.Bytes())
}

func TestRunLineEndings(t *testing.T) {
	// A byte order mark, CRLF line ends, and no newline after the last line.
	input := "\xef\xbb\xbf" + line("1") + "\r\n\r\n" + line("2") + "\r\n" + line("3")
	src, sink, errs := run(t, input)
	assert.Empty(t, errs)
	assert.Equal(t, []string{"1", "2", "3"}, sink.ids())
	assert.Equal(t, int64(4), src.Lines())
	assert.Equal(t, int64(len(input)), src.Bytes())
}

func TestRunEmptyInput(t *testing.T) {
	src, sink, errs := run(t, "")
	assert.Empty(t, errs)
	assert.Empty(t, sink.ids())
	assert.Zero(t, src.Lines())
	assert.Zero(t, src.Bytes())
}

func TestRunLongLines(t *testing.T) {
	oneMBText := strings.Replace(line("2"), "message 2", strings.Repeat("x", 1_000_000), 1)
	huge := strings.Replace(line("3"), "message 3", strings.Repeat("y", 5<<20), 1) // > 4 MB
	justOver := strings.Replace(line("4"), "message 4", strings.Repeat("z", MaxLineBytes), 1)
	big := strings.Repeat("é", MaxTextBytes/2) // a long but acceptable text
	ok := strings.Replace(line("5"), "message 5", big, 1)
	input := line("1") + "\n" + oneMBText + "\n" + huge + "\n" + justOver + "\n" + ok + "\n" + huge // last: no newline

	src, sink, errs := run(t, input)
	assert.Equal(t, []string{"1", "5"}, sink.ids())
	assert.Len(t, sink.mentions[1].Text, MaxTextBytes)
	require.Len(t, errs, 4)
	assert.Equal(t, 2, errs[0].Line)
	assert.Equal(t, "text", errs[0].Field)
	assert.Equal(t, "line 2: text: too long: 1000000 bytes, the limit is 65536", errs[0].Error())
	for i, n := range []int{3, 4, 6} {
		e := errs[i+1]
		assert.Equal(t, n, e.Line)
		assert.Empty(t, e.Field)
		assert.Equal(t, fmt.Sprintf("line %d: line too long: more than %d bytes, skipped", n, MaxLineBytes), e.Error())
	}
	assert.Equal(t, int64(6), src.Lines())
	assert.Equal(t, int64(len(input)), src.Bytes())
}

// slowReader hands out its input a few bytes at a time, as a pipe would.
type slowReader struct {
	r io.Reader
	n int
}

func (s *slowReader) Read(p []byte) (int, error) {
	if len(p) > s.n {
		p = p[:s.n]
	}
	return s.r.Read(p)
}

func TestRunShortReads(t *testing.T) {
	var b strings.Builder
	for i := range 50 {
		b.WriteString(line(fmt.Sprint(i)))
		b.WriteString("\n")
	}
	src := NewSource(&slowReader{r: strings.NewReader(b.String()), n: 7}, Options{})
	sink := &fakeSink{}
	require.NoError(t, src.Run(context.Background(), sink))
	assert.Len(t, sink.ids(), 50)
	assert.Equal(t, "49", sink.ids()[49])
}

func TestRunProgressCounters(t *testing.T) {
	lines := []string{line("1"), "oops", line("3"), line("4")}
	input := strings.Join(lines, "\n") + "\n"
	sink := &fakeSink{block: make(chan struct{}), entered: make(chan struct{})}
	src := NewSource(strings.NewReader(input), Options{OnError: func(LineError) {}})
	done := make(chan error, 1)
	go func() { done <- src.Run(context.Background(), sink) }()

	// Watch from this goroutine while Run waits in Submit.
	consumed := func(n int) int64 { return int64(len(strings.Join(lines[:n], "\n")) + 1) }
	<-sink.entered // line 1
	assert.Equal(t, int64(1), src.Lines())
	assert.Equal(t, int64(0), src.Mentions())
	assert.Equal(t, consumed(1), src.Bytes())
	sink.block <- struct{}{}
	<-sink.entered // line 3; line 2 was rejected on the way
	assert.Equal(t, int64(3), src.Lines())
	assert.Equal(t, int64(1), src.Mentions())
	assert.Equal(t, int64(1), src.Errors())
	assert.Equal(t, consumed(3), src.Bytes())
	sink.block <- struct{}{}
	<-sink.entered
	sink.block <- struct{}{}
	require.NoError(t, <-done)
	assert.Equal(t, int64(3), src.Mentions())
	assert.Equal(t, int64(len(input)), src.Bytes())
}

// endless produces valid lines for ever.
type endless struct {
	buf bytes.Buffer
	n   int
}

func (e *endless) Read(p []byte) (int, error) {
	for e.buf.Len() < len(p) {
		e.n++
		e.buf.WriteString(line(fmt.Sprint(e.n)) + "\n")
	}
	return e.buf.Read(p)
}

func TestRunCancelledWhileReading(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sink := &cancellingSink{after: 100, cancel: cancel}
	src := NewSource(&endless{}, Options{})
	err := src.Run(ctx, sink)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, int64(100), src.Mentions(), "nothing is submitted after the cancel")
}

type cancellingSink struct {
	n, after int
	cancel   func()
}

func (s *cancellingSink) Submit(ctx context.Context, m parley.Mention) error {
	s.n++
	if s.n == s.after {
		s.cancel()
	}
	return nil
}

func TestRunCancelledWhileSubmitting(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	sink := &fakeSink{block: make(chan struct{}), entered: make(chan struct{}, 1)}
	src := NewSource(strings.NewReader(line("1")+"\n"+line("2")+"\n"), Options{})
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, sink) }()
	<-sink.entered
	cancel()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	assert.Empty(t, sink.ids())
	assert.Zero(t, src.Mentions())
}

type failingReader struct {
	data io.Reader
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.data.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

func TestRunReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	src := NewSource(&failingReader{data: strings.NewReader(line("1") + "\n" + line("2")), err: boom}, Options{})
	sink := &fakeSink{}
	err := src.Run(context.Background(), sink)
	require.ErrorIs(t, err, boom)
	assert.Contains(t, err.Error(), "reading line 2")
	assert.Equal(t, []string{"1"}, sink.ids())
}

func TestRunSinkError(t *testing.T) {
	src := NewSource(strings.NewReader(line("1")+"\n"+line("2")+"\n"+line("3")+"\n"), Options{})
	sink := &fakeSink{failAt: 2}
	err := src.Run(context.Background(), sink)
	require.ErrorIs(t, err, errSink)
	assert.Contains(t, err.Error(), "line 2")
	assert.Equal(t, []string{"1"}, sink.ids(), "Run stops at the sink's error")
}

func TestRunLogsBadLinesWithoutOnError(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	src := NewSource(strings.NewReader(line("1")+"\n{nope\n"), Options{Logger: log})
	require.NoError(t, src.Run(context.Background(), &fakeSink{}))

	var warned bool
	for l := range strings.Lines(buf.String()) {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &rec))
		if rec["level"] == "WARN" {
			warned = true
			assert.Equal(t, "bad line", rec["msg"])
			assert.Equal(t, float64(2), rec["line"])
			assert.Contains(t, rec["err"], "not JSON")
		}
	}
	assert.True(t, warned, "log: %s", buf.String())
}
