package parley

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// ExportFilter narrows a bulk export. Zero values do not filter.
type ExportFilter struct {
	// Since and Until bound the time each kind is exported by (a mention's
	// created time, a conversation's last message, a draft's creation, a
	// person's last sighting): Since inclusive, Until exclusive.
	Since, Until time.Time
	// Platform keeps one platform's rows ("mastodon", "discord").
	Platform string
	// AfterID keeps the rows with a larger id, to go on from the last row
	// of a page (the rows come in id order).
	AfterID int64
}

// SentimentCorrection is one change a person made to a mention's sentiment.
type SentimentCorrection struct {
	ID         int64     `json:"id"`
	MentionID  int64     `json:"mention_id"`
	ModelLabel Label     `json:"model_label"`
	Label      Label     `json:"label"`
	Actor      string    `json:"actor"`
	At         time.Time `json:"at"`
}

// Correction is a person's latest verdict on a mention's sentiment, with
// the mention's text: the material to retrain a classifier on.
type Correction struct {
	ID         int64     `json:"id"`
	MentionID  int64     `json:"mention_id"`
	Text       string    `json:"text"`
	ModelLabel Label     `json:"model_label"` // what the model said first
	Label      Label     `json:"label"`       // what the person says
	Actor      string    `json:"actor"`
	At         time.Time `json:"at"`
}

// AdvocateRecord is what the advocate programme holds about a person.
type AdvocateRecord struct {
	State       string           `json:"state,omitempty"`
	Score       float64          `json:"score,omitempty"`
	Note        string           `json:"note,omitempty"`
	ScoredAt    time.Time        `json:"scored_at,omitzero"`
	ConfirmedBy string           `json:"confirmed_by,omitempty"`
	ConfirmedAt time.Time        `json:"confirmed_at,omitzero"`
	Changes     []AdvocateChange `json:"changes"`
	Prompts     []Prompt         `json:"prompts"`
}

// PersonData is everything Parley holds about one person (one platform
// account), for a request to see their data. Conversations are the
// threads they wrote in, without other people's messages; Audit is every
// entry naming them or a draft to them.
type PersonData struct {
	Person        Person                `json:"person"`
	OptedOutAt    time.Time             `json:"opted_out_at,omitzero"`
	Mentions      []Mention             `json:"mentions"`
	Conversations []Conversation        `json:"conversations"`
	Drafts        []Draft               `json:"drafts"`
	Advocate      AdvocateRecord        `json:"advocate"`
	Notes         []Note                `json:"notes"`
	Corrections   []SentimentCorrection `json:"corrections"`
	Audit         []AuditEntry          `json:"audit"`
}

// DataExporter reads the store out in bulk and per person, for exports and
// requests to see one's data. Each Export method hands the rows matching f
// to fn one at a time, in id order (an export of a million rows holds one
// row in memory); an error from fn stops the walk and is returned as is.
type DataExporter interface {
	// ExportMentions filters by a mention's created time.
	ExportMentions(ctx context.Context, f ExportFilter, fn func(Mention) error) error
	// ExportConversations filters by the time of a conversation's last message.
	ExportConversations(ctx context.Context, f ExportFilter, fn func(Conversation) error) error
	// ExportDrafts filters by a draft's created time.
	ExportDrafts(ctx context.Context, f ExportFilter, fn func(Draft) error) error
	// ExportPeople filters by the time a person was last seen.
	ExportPeople(ctx context.Context, f ExportFilter, fn func(Person) error) error
	// PersonData gathers everything stored about one person, read in one
	// snapshot so the parts agree. Errors: ENOTFOUND for no such person.
	PersonData(ctx context.Context, personID int64) (PersonData, error)
}

// CorrectionStore keeps people's corrections of mentions' sentiment.
type CorrectionStore interface {
	// CorrectSentiment sets a mention's sentiment to label on actor's
	// word, keeping what the model said. Errors: ENOTFOUND, EINVALID for an
	// empty actor or a bad label.
	CorrectSentiment(ctx context.Context, mentionID int64, label Label, actor string) (Mention, error)
	// Corrections returns the latest correction per mention, oldest first.
	Corrections(ctx context.Context) ([]Correction, error)
	// CorrectionStats counts the corrections made in [from, to) and how
	// many disagreed with the model.
	CorrectionStats(ctx context.Context, from, to time.Time) (total, disagreed int, err error)
}

// Erasure is what erasing a person removed. It names no erased data: it
// goes into the audit log as it is.
type Erasure struct {
	PersonID int64  `json:"person_id"`
	Platform string `json:"platform"`
	// Mentions is how many of their mentions lost their text, link and
	// identifiers (the rows stay, anonymous, so the digest's counts hold).
	Mentions int `json:"mentions"`
	// Drafts is how many drafts to them lost their text; the pending or
	// approved ones among them are rejected, never sent.
	Drafts int `json:"drafts"`
	// Deleted counts the rows removed: prompts, notes about them and their
	// conversations, advocate history, links, webhook events about them.
	Deleted int `json:"deleted"`
	// Blocked says a tombstone keeps their future posts out.
	Blocked bool      `json:"blocked"`
	At      time.Time `json:"at"`
}

// Detail is the erasure as the audit log records it.
func (e Erasure) Detail() string {
	s := fmt.Sprintf("erased person %d (%s): %d mentions anonymised, %d drafts emptied, %d rows deleted",
		e.PersonID, e.Platform, e.Mentions, e.Drafts, e.Deleted)
	if e.Blocked {
		s += "; future posts blocked"
	}
	return s
}

// TombstoneKey is how a blocked account is kept: a SHA-256 of its
// platform and platform id, so the tombstone does not hold the id itself.
func TombstoneKey(platform, externalID string) string {
	h := sha256.Sum256([]byte(platform + "\x00" + externalID))
	return hex.EncodeToString(h[:])
}

// EraseStore erases a person on request.
type EraseStore interface {
	// ErasePerson removes what identifies a person and what they said:
	// their mentions' text, links and platform ids are emptied or
	// replaced, their handle, name and platform id replaced
	// ("erased-<id>"); prompts, notes about them (and the notes of the
	// conversations they wrote in), advocate history, links and webhook
	// events about them are deleted; drafts to them lose their text and
	// the unsent ones are rejected; audit entries about them lose their
	// detail. Counts (mentions per sentiment, per day) stay, anonymous.
	// With block, a tombstone (TombstoneKey) keeps their future posts
	// out. The erasure is in the audit log under actor, without the
	// erased data. The store then scrubs what the database keeps of the
	// old values (SQLite: search index, free pages, write-ahead log).
	// Errors: ENOTFOUND; EINVALID for an empty actor.
	ErasePerson(ctx context.Context, personID int64, actor string, block bool) (Erasure, error)
	// Tombstones returns the keys (TombstoneKey) of blocked accounts.
	Tombstones(ctx context.Context) ([]string, error)
}
