package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/rules/sentiment"
)

func init() {
	register(&command{
		name:    "classify",
		summary: "classify the sentiment of texts read from standard input",
		usage: `parley classify [--model NAME] [--config FILE] < texts

Reads JSONL objects with a "text" field, or plain lines, and writes one JSON
object per input line, in order, as soon as it is read:
  {"label":"positive","score":0.74,"confidence":0.91,"lang":"en","known":true}
confidence is the calibrated probability that the label is right; lang is
the detected language (ISO 639-1, "" when unsure) and known says whether the
model covers it (false: the label is a placeholder neutral, a person should
read the post). "overrides" names the slang or brand lexicon entries that
applied. Other fields of a JSONL input object are kept in the output. The
built-in slang lexicon always applies, with --config the brand lexicon too,
so the answers are the ones ` + "`parley rules test`" + ` sees. Models: ` + strings.Join(sentiment.Names(), ", ") + `,
or a model file (--model corrections.model.gz, from ` + "`parley sentiment retrain`" + `).

Example:
  echo 'this deck is sick 🔥' | parley classify
  parley classify --model ./parley-data/retrained.model.gz < posts.jsonl`,
		run: runClassify,
	})
}

func runClassify(ctx context.Context, e *env, args []string) (retErr error) {
	model := e.flags().String("model", "", "sentiment model: "+strings.Join(sentiment.Names(), ", ")+" (default: the config's, else default)")
	if _, err := e.parse(args); err != nil {
		return err
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	cl, err := cfg.classifier(*model)
	if err != nil {
		return err
	}
	r := bufio.NewReaderSize(e.stdin, 64<<10)
	w := bufio.NewWriter(e.stdout)
	defer joinErr(&retErr, w.Flush)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for line := 1; ; line++ {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		text, err := r.ReadString('\n')
		if text == "" && err != nil {
			break
		}
		text = strings.TrimRight(text, "\r\n")
		out, perr := classifyLine(cl, text)
		if perr != nil {
			return parley.Errorf(parley.EINVALID, "line %d: %v", line, perr)
		}
		if err := enc.Encode(out); err != nil {
			return err
		}
		// Stream: a reader on the other end of a pipe sees each answer
		// as soon as its line is in.
		if r.Buffered() == 0 {
			if err := w.Flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// classifyLine classifies one input line: a JSON object with "text" (its
// other fields are kept), or a plain line.
func classifyLine(cl sentiment.LangClassifier, line string) (map[string]any, error) {
	trimmed := strings.TrimSpace(line)
	if strings.HasPrefix(trimmed, "{") {
		var obj map[string]any
		if err := json.Unmarshal([]byte(trimmed), &obj); err != nil {
			return nil, fmt.Errorf("not valid JSON: %v (a plain text line must not start with '{')", err)
		}
		text, ok := obj["text"].(string)
		if !ok {
			return nil, fmt.Errorf(`want a "text" field holding a string`)
		}
		verdict(cl, text, obj)
		return obj, nil
	}
	obj := map[string]any{}
	verdict(cl, line, obj)
	return obj, nil
}

// verdict writes cl's answer on text into obj.
func verdict(cl sentiment.LangClassifier, text string, obj map[string]any) {
	s, lang := cl.ClassifyWithLang(text)
	obj["label"], obj["score"], obj["confidence"] = s.Label, round(s.Score), round(s.Confidence)
	obj["lang"], obj["known"] = lang, s.Known()
	if len(s.Overrides) > 0 {
		obj["overrides"] = s.Overrides
	}
}

func round(f float64) float64 { return math.Round(f*10000) / 10000 }
