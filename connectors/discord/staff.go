package discord

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/internal/textutil"
)

// Custom ids of the staff message buttons and the edit modal. The draft id
// follows the last colon.
const (
	customApprove   = "parley:approve:"
	customEdit      = "parley:edit:"
	customReject    = "parley:reject:"
	customEditModal = "parley:editmodal:"
	editInputID     = "parley:text"
)

// StaffCursorKey is the store cursor key remembering which staff message
// shows a draft: its value is "channelID/messageID/shown".
func StaffCursorKey(draftID int64) string { return "discord:staff:" + strconv.FormatInt(draftID, 10) }

// staffWatermarkKey holds the UpdatedAt (RFC 3339) of the newest draft
// change the mirror has handled.
const staffWatermarkKey = "discord:staff:watermark"

// staffOverlap re-reads changes this far behind the watermark, so two
// changes within the same instant are not missed; handling is idempotent.
const staffOverlap = 2 * time.Second

type staffRecord struct {
	channelID, messageID, shown string
}

func (r staffRecord) String() string { return r.channelID + "/" + r.messageID + "/" + r.shown }

func parseStaffRecord(v string) (staffRecord, bool) {
	p := strings.SplitN(v, "/", 3)
	if len(p) != 3 || p[0] == "" || p[1] == "" {
		return staffRecord{}, false
	}
	return staffRecord{p[0], p[1], p[2]}, true
}

// shownState is what a staff message shows of d: pending drafts are told
// apart by their last change (an edit elsewhere re-renders the text), the
// others by their state (sending shows as approved).
func shownState(d parley.Draft) string {
	switch d.State {
	case parley.DraftPending:
		return "pending@" + strconv.FormatInt(d.UpdatedAt.UnixNano(), 10)
	case parley.DraftSending:
		return string(parley.DraftApproved)
	}
	return string(d.State)
}

// staffLoop mirrors the queue into the staff channel: every new pending
// draft gets a message with buttons, and a draft decided or edited
// elsewhere has its message updated. It returns when ctx ends.
func (c *Connector) staffLoop(ctx context.Context) {
	retry := map[int64]bool{}
	wm, err := c.loadWatermark(ctx)
	if err != nil {
		c.log.Error("staff channel: reading watermark", "err", err)
	}
	t := time.NewTicker(c.opt.pollInterval)
	defer t.Stop()
	for {
		wm = c.staffSync(ctx, wm, retry)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (c *Connector) loadWatermark(ctx context.Context) (time.Time, error) {
	v, err := c.store.Cursor(ctx, staffWatermarkKey)
	if err != nil || v == "" {
		return time.Time{}, err
	}
	return time.Parse(time.RFC3339Nano, v)
}

// staffSync handles the drafts changed since wm (all pending drafts when wm
// is zero) and the drafts that failed last time, and returns the new
// watermark.
func (c *Connector) staffSync(ctx context.Context, wm time.Time, retry map[int64]bool) time.Time {
	for id := range retry {
		d, err := c.store.Draft(ctx, id)
		if err != nil {
			if parley.ErrorCode(err) == parley.ENOTFOUND {
				delete(retry, id)
			}
			continue
		}
		if c.staffShow(ctx, d) == nil {
			delete(retry, id)
		}
	}
	f := parley.DraftFilter{Limit: 100}
	newWM := wm
	if wm.IsZero() {
		f.States = []parley.DraftState{parley.DraftPending}
		newWM = c.opt.now().Add(-staffOverlap)
	} else {
		f.UpdatedAfter = wm.Add(-staffOverlap)
	}
	for {
		ds, err := c.store.Drafts(ctx, f)
		if err != nil {
			if ctx.Err() == nil {
				c.log.Error("staff channel: listing drafts", "err", err)
			}
			return wm
		}
		for _, d := range ds {
			if err := c.staffShow(ctx, d); err != nil {
				if ctx.Err() != nil {
					return wm
				}
				c.log.Warn("staff channel: cannot show draft; will retry", "draft_id", d.ID, "err", err)
				retry[d.ID] = true
			}
			if d.UpdatedAt.After(newWM) {
				newWM = d.UpdatedAt
			}
		}
		if len(ds) < f.Limit {
			break
		}
		f.Offset += len(ds)
	}
	if !newWM.Equal(wm) {
		if err := c.store.SetCursor(ctx, staffWatermarkKey, newWM.UTC().Format(time.RFC3339Nano)); err != nil {
			c.log.Error("staff channel: saving watermark", "err", err)
		}
	}
	return newWM
}

// staffShow posts d to the staff channel when it is pending and not posted
// yet, or updates its message when what it shows is out of date.
func (c *Connector) staffShow(ctx context.Context, d parley.Draft) error {
	c.staffMu.Lock()
	defer c.staffMu.Unlock()
	v, err := c.store.Cursor(ctx, StaffCursorKey(d.ID))
	if err != nil {
		return err
	}
	rec, posted := parseStaffRecord(v)
	want := shownState(d)
	if posted && rec.shown == want {
		return nil
	}
	if !posted && d.State != parley.DraftPending {
		return nil // decided before it reached the channel
	}
	content, embeds, comps := c.renderStaff(ctx, d, "")
	if !posted {
		m, err := c.post(ctx, c.cfg.StaffChannel, &discordgo.MessageSend{
			Content:         content,
			Embeds:          embeds,
			Components:      comps,
			AllowedMentions: &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}},
		}, nonceFor("parley-staff-"+strconv.FormatInt(d.ID, 10)))
		if err != nil {
			return mapError("posting draft to the staff channel", err)
		}
		rec = staffRecord{channelID: c.cfg.StaffChannel, messageID: m.ID}
		c.log.Info("draft posted to the staff channel", "draft_id", d.ID, "message_id", m.ID)
	} else {
		err := c.call(ctx, func(opts ...discordgo.RequestOption) error {
			_, err := c.s.ChannelMessageEditComplex(&discordgo.MessageEdit{
				ID: rec.messageID, Channel: rec.channelID,
				Content: &content, Embeds: &embeds, Components: &comps,
			}, opts...)
			return err
		})
		if err != nil {
			if parley.ErrorCode(mapError("", err)) == parley.ENOTFOUND {
				c.log.Warn("staff message is gone; not updating it", "draft_id", d.ID, "message_id", rec.messageID)
			} else {
				return mapError("updating the staff message", err)
			}
		}
	}
	rec.shown = want
	return c.store.SetCursor(ctx, StaffCursorKey(d.ID), rec.String())
}

// renderStaff builds a staff message for d. how, when set, says what the
// clicker just did ("edited and approved").
func (c *Connector) renderStaff(ctx context.Context, d parley.Draft, how string) (string, []*discordgo.MessageEmbed, []discordgo.MessageComponent) {
	var who parley.Person
	if d.PersonID != 0 {
		if p, err := c.store.Person(ctx, d.PersonID); err == nil {
			who = p
		}
	}
	var orig *parley.Mention
	if d.MentionID != 0 {
		if m, err := c.store.Mention(ctx, d.MentionID); err == nil {
			orig = &m
		}
	}
	kind := "Reply"
	if d.Kind == parley.KindPrompt {
		kind = "Prompt"
	}
	rule := ""
	if d.Rule != "" {
		rule = ", rule `" + d.Rule + "`"
	}
	by := d.DecidedBy
	if by == "" {
		by = "someone"
	}
	if how == "" {
		how = string(d.State)
		if d.State == parley.DraftApproved || d.State == parley.DraftSending || d.State == parley.DraftSent {
			how = "approved"
			if d.OriginalText != "" && d.OriginalText != d.Text {
				how = "edited and approved"
			}
		}
	}
	var content string
	color := 0x5865F2
	switch d.State {
	case parley.DraftPending:
		content = fmt.Sprintf("📝 **Draft #%d** (%s on %s%s) waits for approval", d.ID, strings.ToLower(kind), d.Platform, rule)
	case parley.DraftApproved, parley.DraftSending:
		content = fmt.Sprintf("✅ **Draft #%d** %s by %s", d.ID, how, by)
		color = 0x57F287
	case parley.DraftSent:
		content = fmt.Sprintf("✅ **Draft #%d** %s by %s · sent", d.ID, how, by)
		color = 0x57F287
	case parley.DraftRejected:
		content = fmt.Sprintf("🚫 **Draft #%d** rejected by %s", d.ID, by)
		color = 0xED4245
	case parley.DraftFailed:
		content = fmt.Sprintf("⚠️ **Draft #%d** failed: %s", d.ID, textutil.Truncate(d.LastError, 300))
		color = 0xFEE75C
	default:
		content = fmt.Sprintf("**Draft #%d** is %s", d.ID, d.State)
	}
	e := &discordgo.MessageEmbed{
		Type:        discordgo.EmbedTypeRich,
		Title:       textutil.Truncate(fmt.Sprintf("%s to %s", kind, personLabel(who)), 256),
		Description: textutil.Truncate(d.Text, 4000),
		Color:       color,
	}
	if orig != nil {
		text := orig.Text
		if orig.URL != "" {
			text += "\n" + orig.URL
		}
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: "Original message", Value: textutil.Truncate(quote(text), 1024)})
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: "Sentiment", Value: sentimentLabel(orig.Sentiment), Inline: true})
	}
	if who.ID != 0 {
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: "Person", Value: textutil.Truncate(personHistory(who), 1024), Inline: true})
		if recent := c.recentMentions(ctx, who.ID, d.MentionID); recent != "" {
			e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: "Earlier messages", Value: textutil.Truncate(recent, 1024)})
		}
	}
	comps := []discordgo.MessageComponent{}
	if d.State == parley.DraftPending {
		id := strconv.FormatInt(d.ID, 10)
		comps = append(comps, discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			discordgo.Button{Label: "Approve", Style: discordgo.SuccessButton, CustomID: customApprove + id},
			discordgo.Button{Label: "Edit", Style: discordgo.PrimaryButton, CustomID: customEdit + id},
			discordgo.Button{Label: "Reject", Style: discordgo.DangerButton, CustomID: customReject + id},
		}})
	}
	return content, []*discordgo.MessageEmbed{e}, comps
}

func (c *Connector) recentMentions(ctx context.Context, personID, except int64) string {
	ms, err := c.store.PersonMentions(ctx, personID, 4)
	if err != nil {
		return ""
	}
	var b strings.Builder
	n := 0
	for _, m := range ms {
		if m.ID == except || n == 3 {
			continue
		}
		n++
		label := string(m.Sentiment.Label)
		if label == "" {
			label = "unclassified"
		}
		fmt.Fprintf(&b, "• %s · %s: %s\n", m.CreatedAt.UTC().Format("2006-01-02"), label, textutil.Truncate(textutil.OneLine(m.Text), 200))
	}
	return strings.TrimSpace(b.String())
}

func personLabel(p parley.Person) string {
	if p.ID == 0 {
		return "someone"
	}
	if p.Name != "" && p.Name != p.Handle {
		return p.Name + " (@" + p.Handle + ")"
	}
	return "@" + p.Handle
}

func personHistory(p parley.Person) string {
	s := fmt.Sprintf("%d mention", p.Mentions)
	if p.Mentions != 1 {
		s += "s"
	}
	if p.LastSentiment != "" {
		s += " · last sentiment " + string(p.LastSentiment)
	}
	if p.RepliesSent > 0 {
		s += fmt.Sprintf(" · %d replies sent", p.RepliesSent)
	}
	if p.AdvocateState != "" {
		s += " · " + p.AdvocateState
	}
	if p.OptedOut {
		s += " · opted out"
	}
	return s
}

func sentimentLabel(s parley.Sentiment) string {
	if s.Label == "" {
		return "not classified"
	}
	return fmt.Sprintf("%s (%+.2f)", s.Label, s.Score)
}

func quote(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		lines[i] = "> " + l
	}
	return strings.Join(lines, "\n")
}

// interactionLoop handles button clicks and modal submissions.
func (c *Connector) interactionLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case i := <-c.interactions:
			c.onInteraction(ctx, i)
		}
	}
}

func parseCustomID(s, prefix string) (int64, bool) {
	if !strings.HasPrefix(s, prefix) {
		return 0, false
	}
	id, err := strconv.ParseInt(s[len(prefix):], 10, 64)
	return id, err == nil && id > 0
}

// staffActor returns "discord:<username>" when the clicker has a staff role.
func (c *Connector) staffActor(i *discordgo.Interaction) (string, bool) {
	if i.Member == nil || i.Member.User == nil {
		return "", false
	}
	for _, r := range i.Member.Roles {
		if c.staffRoles[r] {
			return "discord:" + i.Member.User.Username, true
		}
	}
	return "", false
}

func (c *Connector) onInteraction(ctx context.Context, i *discordgo.Interaction) {
	action, id, text := interactionAction(i)
	if action == "" {
		return // not ours
	}
	log := c.log.With("draft_id", id, "interaction_id", i.ID)
	actor, ok := c.staffActor(i)
	if !ok {
		who := "unknown"
		if u := interactionUser(i); u != nil {
			who = u.Username
		}
		log.Info("staff button refused: the member has no staff role", "user", who)
		c.ephemeral(ctx, i, "You need one of the staff roles ("+c.roleList()+") to decide drafts.")
		return
	}
	if action == customEdit {
		c.openEditModal(ctx, i, id, log)
		return
	}
	c.decideClick(ctx, i, action, actor, id, text, log)
}

// interactionAction reads which of our buttons (or the edit modal) an
// interaction is, the draft it names and, for the modal, the text typed.
// action is "" for an interaction that is not ours.
func interactionAction(i *discordgo.Interaction) (action string, id int64, text string) {
	switch i.Type {
	case discordgo.InteractionMessageComponent:
		cid := i.MessageComponentData().CustomID
		for _, p := range []string{customApprove, customEdit, customReject} {
			if n, ok := parseCustomID(cid, p); ok {
				action, id = p, n
			}
		}
	case discordgo.InteractionModalSubmit:
		data := i.ModalSubmitData()
		if n, ok := parseCustomID(data.CustomID, customEditModal); ok {
			action, id = customEditModal, n
			text = modalText(data.Components)
		}
	}
	return action, id, text
}

// openEditModal answers the Edit button with a form holding the draft's
// text, or says why the draft cannot be edited.
func (c *Connector) openEditModal(ctx context.Context, i *discordgo.Interaction, id int64, log *slog.Logger) {
	d, err := c.store.Draft(ctx, id)
	if err == nil && d.State != parley.DraftPending {
		err = parley.Errorf(parley.ECONFLICT, "draft %d is already %s by %s", d.ID, d.State, d.DecidedBy)
	}
	if err != nil {
		c.ephemeral(ctx, i, parley.ErrorMessage(err))
		return
	}
	err = c.call(ctx, func(opts ...discordgo.RequestOption) error {
		return c.s.InteractionRespond(i, &discordgo.InteractionResponse{
			Type: discordgo.InteractionResponseModal,
			Data: &discordgo.InteractionResponseData{
				CustomID: customEditModal + strconv.FormatInt(id, 10),
				Title:    textutil.Truncate(fmt.Sprintf("Edit draft #%d, then approve", id), 45),
				Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
					discordgo.TextInput{
						CustomID: editInputID, Label: "Reply", Style: discordgo.TextInputParagraph,
						Value: textutil.Truncate(d.Text, MaxMessageLen), Required: true, MinLength: 1, MaxLength: MaxMessageLen,
					},
				}}},
			},
		}, opts...)
	})
	if err != nil {
		log.Warn("opening the edit modal", "err", err)
	}
}

// decideClick carries out Approve, Reject or the submitted edit through
// the decision service and shows the outcome on the staff message.
func (c *Connector) decideClick(ctx context.Context, i *discordgo.Interaction, action, actor string, id int64, text string, log *slog.Logger) {
	// Acknowledge at once (the 3-second rule), then act and edit the message.
	err := c.call(ctx, func(opts ...discordgo.RequestOption) error {
		return c.s.InteractionRespond(i, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredMessageUpdate}, opts...)
	})
	if err != nil {
		log.Warn("acknowledging a staff button", "err", err)
		return
	}
	var d parley.Draft
	how := ""
	dec := c.Decider()
	switch {
	case dec == nil:
		err = parley.Errorf(parley.EUNAVAILABLE, "Parley is not ready to take decisions here yet; try the web inbox")
	case action == customApprove:
		d, err = dec.Approve(ctx, actor, id, nil)
	case action == customReject:
		d, err = dec.Reject(ctx, actor, id, "rejected in Discord")
	case action == customEditModal:
		how = "edited and approved"
		d, err = dec.Approve(ctx, actor, id, &text)
	}
	if err != nil {
		log.Info("staff action refused by the store", "actor", actor, "err", err)
		c.followup(ctx, i, parley.ErrorMessage(err))
		if cur, err2 := c.store.Draft(ctx, id); err2 == nil {
			if err := c.staffShow(ctx, cur); err != nil {
				log.Warn("refreshing the staff message", "err", err)
			}
		}
		return
	}
	log.Info("draft decided in Discord", "actor", actor, "state", d.State)
	c.staffMu.Lock()
	defer c.staffMu.Unlock()
	content, embeds, comps := c.renderStaff(ctx, d, how)
	err = c.call(ctx, func(opts ...discordgo.RequestOption) error {
		_, err := c.s.InteractionResponseEdit(i, &discordgo.WebhookEdit{Content: &content, Embeds: &embeds, Components: &comps}, opts...)
		return err
	})
	if err != nil {
		log.Warn("updating the staff message after a click", "err", err)
		return // the mirror's next pass updates it
	}
	c.recordClickedMessage(ctx, i, d, log)
}

// recordClickedMessage records which staff message shows d and in which
// state, as the mirror does for the messages it posts or edits. The caller
// holds staffMu.
func (c *Connector) recordClickedMessage(ctx context.Context, i *discordgo.Interaction, d parley.Draft, log *slog.Logger) {
	if i.Message == nil || i.Message.ID == "" {
		return
	}
	channelID := i.ChannelID
	if i.Message.ChannelID != "" {
		channelID = i.Message.ChannelID
	}
	rec := staffRecord{channelID: channelID, messageID: i.Message.ID, shown: shownState(d)}
	if err := c.store.SetCursor(ctx, StaffCursorKey(d.ID), rec.String()); err != nil {
		log.Warn("recording the staff message", "err", err)
	}
}

// SetDecider gives the staff buttons the decision service, so a click
// gets the checks the web inbox and the CLI apply. Call it before Run.
func (c *Connector) SetDecider(d parley.Decider) {
	c.staffMu.Lock()
	defer c.staffMu.Unlock()
	c.decider = d
}

// Decider returns the decision service the staff buttons use (nil until
// SetDecider).
func (c *Connector) Decider() parley.Decider {
	c.staffMu.Lock()
	defer c.staffMu.Unlock()
	return c.decider
}

func interactionUser(i *discordgo.Interaction) *discordgo.User {
	if i.Member != nil && i.Member.User != nil {
		return i.Member.User
	}
	return i.User
}

func modalText(comps []discordgo.MessageComponent) string {
	for _, c := range comps {
		var row *discordgo.ActionsRow
		switch r := c.(type) {
		case *discordgo.ActionsRow:
			row = r
		case discordgo.ActionsRow:
			row = &r
		}
		if row == nil {
			continue
		}
		for _, cc := range row.Components {
			switch t := cc.(type) {
			case *discordgo.TextInput:
				if t.CustomID == editInputID {
					return t.Value
				}
			case discordgo.TextInput:
				if t.CustomID == editInputID {
					return t.Value
				}
			}
		}
	}
	return ""
}

func (c *Connector) roleList() string {
	var rs []string
	for _, r := range c.cfg.StaffRoles {
		rs = append(rs, "<@&"+r+">")
	}
	return strings.Join(rs, ", ")
}

// ephemeral answers an interaction with a message only the clicker sees.
func (c *Connector) ephemeral(ctx context.Context, i *discordgo.Interaction, text string) {
	err := c.call(ctx, func(opts ...discordgo.RequestOption) error {
		return c.s.InteractionRespond(i, &discordgo.InteractionResponse{
			Type: discordgo.InteractionResponseChannelMessageWithSource,
			Data: &discordgo.InteractionResponseData{
				Content:         text,
				Flags:           discordgo.MessageFlagsEphemeral,
				AllowedMentions: &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}},
			},
		}, opts...)
	})
	if err != nil {
		c.log.Warn("answering an interaction", "interaction_id", i.ID, "err", err)
	}
}

// followup sends an ephemeral follow-up after a deferred answer.
func (c *Connector) followup(ctx context.Context, i *discordgo.Interaction, text string) {
	err := c.call(ctx, func(opts ...discordgo.RequestOption) error {
		_, err := c.s.FollowupMessageCreate(i, true, &discordgo.WebhookParams{
			Content:         text,
			Flags:           discordgo.MessageFlagsEphemeral,
			AllowedMentions: &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}},
		}, opts...)
		return err
	})
	if err != nil {
		c.log.Warn("sending an interaction follow-up", "interaction_id", i.ID, "err", err)
	}
}
