package discordtest

import (
	"net/http"
	"slices"

	"github.com/bwmarrin/discordgo"
)

// The REST endpoints about the bot's servers and application, which
// 'parley check --connect' reads.

// getMyGuilds answers GET /users/@me/guilds: the servers the bot is in.
func (s *Server) getMyGuilds(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*discordgo.UserGuild, 0, len(s.guildOrder))
	for _, id := range s.guildOrder {
		g := s.guilds[id]
		out = append(out, &discordgo.UserGuild{ID: g.ID, Name: g.Name, Owner: g.OwnerID == s.Bot.ID})
	}
	writeJSON(w, http.StatusOK, out)
}

// getGuild answers GET /guilds/{guild}: the server with its roles.
func (s *Server) getGuild(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	g, ok := s.guilds[r.PathValue("guild")]
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusForbidden, 50001, "Missing Access")
		return
	}
	writeJSON(w, http.StatusOK, g)
}

// getMember answers GET /guilds/{guild}/members/{user} for the bot.
func (s *Server) getMember(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	gid := r.PathValue("guild")
	if _, ok := s.guilds[gid]; !ok {
		writeError(w, http.StatusForbidden, 50001, "Missing Access")
		return
	}
	if r.PathValue("user") != s.Bot.ID {
		writeError(w, http.StatusNotFound, 10007, "Unknown Member")
		return
	}
	writeJSON(w, http.StatusOK, &discordgo.Member{GuildID: gid, User: s.Bot, Roles: s.botRoles[gid]})
}

// getApplication answers GET /applications/@me with AppFlags.
func (s *Server) getApplication(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"id": s.AppID, "name": s.Bot.Username, "flags": s.AppFlags,
		"bot_public": false, "bot_require_code_grant": false})
}

// botSeesLocked tells whether the bot has View Channel in ch, computed as
// Discord does from the @everyone role, the bot's roles and the channel's
// overwrites (a thread's from its parent). A guild without an @everyone
// role (a role whose id is the guild's) is seen whole, so tests that
// describe no permissions keep working.
func (s *Server) botSeesLocked(ch *discordgo.Channel) bool {
	g, ok := s.guilds[ch.GuildID]
	if !ok {
		return ch.GuildID == "" // a DM
	}
	if ch.IsThread() {
		if parent, ok := s.channels[ch.ParentID]; ok {
			ch = parent
		}
	}
	var everyone *discordgo.Role
	for _, r := range g.Roles {
		if r.ID == g.ID {
			everyone = r
		}
	}
	if everyone == nil || g.OwnerID == s.Bot.ID {
		return true
	}
	roles := s.botRoles[g.ID]
	perms := everyone.Permissions
	for _, r := range g.Roles {
		if slices.Contains(roles, r.ID) {
			perms |= r.Permissions
		}
	}
	if perms&discordgo.PermissionAdministrator != 0 {
		return true
	}
	var allow, deny int64
	for _, o := range ch.PermissionOverwrites {
		switch {
		case o.ID == g.ID:
			perms = perms&^o.Deny | o.Allow
		case o.Type == discordgo.PermissionOverwriteTypeRole && slices.Contains(roles, o.ID):
			allow, deny = allow|o.Allow, deny|o.Deny
		}
	}
	perms = perms&^deny | allow
	for _, o := range ch.PermissionOverwrites {
		if o.Type == discordgo.PermissionOverwriteTypeMember && o.ID == s.Bot.ID {
			perms = perms&^o.Deny | o.Allow
		}
	}
	return perms&discordgo.PermissionViewChannel != 0
}

// SetAppFlags changes AppFlags while the server runs.
func (s *Server) SetAppFlags(flags int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.AppFlags = flags
}
