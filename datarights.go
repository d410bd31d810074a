package parley

import "time"

// ExportFilter narrows a bulk export. Zero values do not filter.
type ExportFilter struct {
	// Since and Until bound the time each kind is exported by (a mention's
	// created time, a conversation's last message, a draft's creation, a
	// person's last sighting): Since inclusive, Until exclusive.
	Since, Until time.Time
	// Platform keeps one platform's rows ("mastodon", "discord").
	Platform string
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
