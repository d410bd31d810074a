package replay

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"

	"github.com/parleybot/parley"
)

// Options configure a Source. The zero value is usable.
type Options struct {
	// Logger receives a record for each bad line (at Warn when OnError is
	// nil, else at Debug) and one at the end of the stream. Nil discards.
	Logger *slog.Logger
	// OnError, when set, is called from Run's goroutine for each line that
	// is not accepted, in line order. Run goes on after it returns.
	OnError func(LineError)
}

// Source reads a replay stream and submits each valid line to a sink. It
// implements parley.Source.
//
// A Source reads its reader once: call Run once. Lines, Bytes, Errors and
// Mentions may be called from any goroutine while Run is going.
type Source struct {
	r    io.Reader
	opts Options
	log  *slog.Logger

	lines    atomic.Int64
	bytes    atomic.Int64
	errs     atomic.Int64
	mentions atomic.Int64
}

var _ parley.Source = (*Source)(nil)

// NewSource returns a Source reading JSON Lines from r.
func NewSource(r io.Reader, opts Options) *Source {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Source{r: r, opts: opts, log: log.With("component", "replay")}
}

// Lines returns how many lines Run has read so far, blank and bad ones
// included.
func (s *Source) Lines() int64 { return s.lines.Load() }

// Bytes returns how many bytes of input Run has consumed so far (whole
// lines with their newlines); at the end it is the size of the input, so
// it can drive a progress bar against a file's size.
func (s *Source) Bytes() int64 { return s.bytes.Load() }

// Errors returns how many lines were rejected so far.
func (s *Source) Errors() int64 { return s.errs.Load() }

// Mentions returns how many mentions the sink has accepted so far.
func (s *Source) Mentions() int64 { return s.mentions.Load() }

// Run reads the stream line by line and submits every valid line, in order,
// with sink.Submit. Blank lines are skipped; a UTF-8 byte order mark at the
// start is ignored; "\r\n" line ends are accepted. A line that is not valid
// is reported as a LineError (to Options.OnError, and to the logger) and
// skipped, and reading goes on. A line longer than MaxLineBytes is skipped
// to its end without being held in memory.
//
// Run returns nil at the end of the input, ctx.Err() when ctx ends first
// (it looks between lines, so a Read that blocks, as on a terminal, delays
// that until it returns; close the reader to cut it short), a wrapped error
// when reading fails, and the sink's error, wrapped, when Submit fails for
// another reason. Bad lines do not make Run fail: compare Errors() with 0.
func (s *Source) Run(ctx context.Context, sink parley.Sink) error {
	br := bufio.NewReaderSize(s.r, 64<<10)
	var (
		buf       []byte // the current line when it spans several reads
		oversized bool   // the current line passed MaxLineBytes
		lineNo    int
	)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		frag, rerr := br.ReadSlice('\n')
		s.bytes.Add(int64(len(frag)))
		if rerr == bufio.ErrBufferFull {
			if !oversized {
				if len(buf)+len(frag) > MaxLineBytes+2 { // +2 for "\r\n"
					oversized, buf = true, buf[:0]
				} else {
					buf = append(buf, frag...)
				}
			}
			continue
		}
		if rerr != nil && rerr != io.EOF {
			return fmt.Errorf("replay: reading line %d: %w", lineNo+1, rerr)
		}
		if len(frag) == 0 && len(buf) == 0 && !oversized {
			return s.finish(lineNo) // EOF after the last newline
		}

		line := frag
		if len(buf) > 0 || oversized {
			if !oversized && len(buf)+len(frag) > MaxLineBytes+2 {
				oversized = true
			}
			if !oversized {
				buf = append(buf, frag...)
				line = buf
			}
		}
		lineNo++
		s.lines.Add(1)
		if oversized {
			s.reject(LineError{Line: lineNo, Err: fmt.Errorf("line too long: more than %d bytes, skipped", MaxLineBytes)})
		} else if err := s.handle(ctx, sink, lineNo, line); err != nil {
			return err
		}
		buf, oversized = buf[:0], false
		if rerr == io.EOF {
			return s.finish(lineNo)
		}
	}
}

func (s *Source) finish(lines int) error {
	s.log.Info("replay done", "lines", lines, "mentions", s.Mentions(), "bad_lines", s.Errors(), "bytes", s.Bytes())
	return nil
}

var bom = []byte("\xef\xbb\xbf")

// handle parses and submits one line; it returns an error only when Run
// must stop.
func (s *Source) handle(ctx context.Context, sink parley.Sink, lineNo int, line []byte) error {
	line = bytes.TrimRight(line, "\r\n")
	if lineNo == 1 {
		line = bytes.TrimPrefix(line, bom)
	}
	if len(bytes.TrimSpace(line)) == 0 {
		return nil
	}
	m, err := ParseLine(line)
	if err != nil {
		le := LineError{Line: lineNo, Err: err}
		var pe *LineError
		if errors.As(err, &pe) {
			le.Field, le.Err = pe.Field, pe.Err
		}
		s.reject(le)
		return nil
	}
	if err := sink.Submit(ctx, m); err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return ctx.Err()
		}
		return fmt.Errorf("replay: line %d: submit: %w", lineNo, err)
	}
	s.mentions.Add(1)
	return nil
}

func (s *Source) reject(le LineError) {
	s.errs.Add(1)
	if s.opts.OnError != nil {
		s.log.Debug("bad line", "line", le.Line, "field", le.Field, "err", le.Err)
		s.opts.OnError(le)
		return
	}
	s.log.Warn("bad line", "line", le.Line, "field", le.Field, "err", le.Err)
}
