package replay

import (
	"bytes"
	_ "embed"
	"io"
)

//go:generate go run ./internal/gensample -o sample.jsonl

// The demo sample's brand and where it lives.
const (
	// SampleBrand is the made-up brand the sample's mentions talk about.
	SampleBrand = "Tidewater Skates"
	// SampleMastodonAccount is the brand's Mastodon account in the sample.
	SampleMastodonAccount = "tidewater@skate.example"
	// SampleDiscordServer is the brand's Discord server in the sample.
	SampleDiscordServer = "Tidewater Crew"
)

//go:embed sample.jsonl
var sample []byte

// Sample returns the bundled demo sample: a few hundred mentions of
// SampleBrand on Mastodon and Discord between 2026-10-19 and 2026-11-22
// (UTC), in the replay format, written for this project. Every line parses.
// The slice is a fresh copy; the caller may keep or change it.
//
// It was made by internal/gensample (go generate) from hand-written posts:
// complaints, praise, questions, a handful of regulars, replies forming
// threads, two re-delivered duplicates, emoji, German, Spanish and French
// posts, HTML-looking text, one #nobot author, an angry account with 50k
// followers, a few direct messages, and a launch-day spike on 2026-11-10.
func Sample() []byte { return bytes.Clone(sample) }

// SampleReader returns a reader over the demo sample.
func SampleReader() io.Reader { return bytes.NewReader(sample) }
