package parley

import (
	"context"
	"time"
)

// SavedReply is a reply a team keeps for answers it gives often. Its
// text is a reply template with the variables of rule replies
// ({{first .Person}}, {{.Brand}}...), rendered for the person it answers.
type SavedReply struct {
	ID    int64  `json:"id"`
	Title string `json:"title"`
	Text  string `json:"text"`
	// Platform is the one platform it is for, "" for any.
	Platform  string    `json:"platform,omitempty"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedBy string    `json:"updated_by,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
	// Uses counts the drafts that used it and were approved or sent.
	Uses int `json:"uses"`
}

// SavedReplyUse is how often one saved reply was used in a period (for
// the digest).
type SavedReplyUse struct {
	ID    int64  `json:"id"`
	Title string `json:"title"`
	Uses  int    `json:"uses"`
}

// SavedReplyStore keeps the saved replies. Every change is written to
// the audit log with actor.
type SavedReplyStore interface {
	// SavedReplies lists saved replies by title. query, when not empty,
	// keeps those whose title or text contain every word of it; platform,
	// when not empty, keeps those for that platform or for any.
	SavedReplies(ctx context.Context, query, platform string) ([]SavedReply, error)
	// SavedReply returns one; ENOTFOUND if there is none.
	SavedReply(ctx context.Context, id int64) (SavedReply, error)
	// SaveReply creates r (ID 0) or replaces the title, text and platform
	// of saved reply r.ID. The caller checks the text as a template.
	// Errors: EINVALID for an empty title or text; ENOTFOUND.
	SaveReply(ctx context.Context, actor string, r SavedReply) (SavedReply, error)
	// DeleteSavedReply deletes one; ENOTFOUND if there is none.
	DeleteSavedReply(ctx context.Context, actor string, id int64) error
	// UseSavedReply records that draft draftID was written from saved
	// reply id; it counts once the draft is approved or sent. A draft
	// records one saved reply, the last used. Errors: ENOTFOUND.
	UseSavedReply(ctx context.Context, id, draftID int64) error
}

// ReplyTemplater checks and renders reply templates with the rules'
// engine and variables (rules.Set is one), for texts people keep.
type ReplyTemplater interface {
	// CheckTemplate returns nil, or an EINVALID error naming each bad
	// variable or syntax error with its line.
	CheckTemplate(text string) error
	// RenderTemplate renders text as a reply to m by p.
	RenderTemplate(text string, m Mention, p Person) (string, error)
}
