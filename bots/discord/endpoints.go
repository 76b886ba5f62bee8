package discord

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/bwmarrin/discordgo"
)

// DefaultAPIURL is Discord itself.
const DefaultAPIURL = "https://discord.com"

// endpointSet holds the discordgo endpoint variables derived from a base.
type endpointSet struct {
	Discord, API, Guilds, Channels, Users, Gateway, GatewayBot, Webhooks,
	Stickers, StageInstances, SKUs, Voice, VoiceRegions, NitroStickersPacks,
	GuildCreate, Applications, OAuth2, OAuth2Applications string
}

// endpoints computes the endpoint variables for apiURL, the base of a
// server speaking Discord's API (for Discord: https://discord.com). The
// /api/v9/ path is appended.
func endpoints(apiURL string) (endpointSet, error) {
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	u, err := url.Parse(apiURL)
	if err != nil {
		return endpointSet{}, fmt.Errorf("discord api url: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return endpointSet{}, fmt.Errorf("discord api url %q: want http(s)://host[:port][/path]", apiURL)
	}
	base := strings.TrimRight(apiURL, "/") + "/"
	api := base + "api/v" + discordgo.APIVersion + "/"
	e := endpointSet{
		Discord:            base,
		API:                api,
		Guilds:             api + "guilds/",
		Channels:           api + "channels/",
		Users:              api + "users/",
		Gateway:            api + "gateway",
		GatewayBot:         api + "gateway/bot",
		Webhooks:           api + "webhooks/",
		Stickers:           api + "stickers/",
		StageInstances:     api + "stage-instances",
		SKUs:               api + "skus",
		Voice:              api + "/voice/",
		NitroStickersPacks: api + "/sticker-packs",
		GuildCreate:        api + "guilds",
		Applications:       api + "applications",
		OAuth2:             api + "oauth2/",
	}
	e.VoiceRegions = e.Voice + "regions"
	e.OAuth2Applications = e.OAuth2 + "applications"
	return e, nil
}

// SetEndpoints points discordgo at apiURL (empty: Discord). discordgo
// keeps its endpoints in package variables, so call this once at start,
// before any Bot runs (main, or TestMain), never per test; the derived
// endpoint functions read these variables and follow.
func SetEndpoints(apiURL string) error {
	e, err := endpoints(apiURL)
	if err != nil {
		return err
	}
	discordgo.EndpointDiscord = e.Discord
	discordgo.EndpointAPI = e.API
	discordgo.EndpointGuilds = e.Guilds
	discordgo.EndpointChannels = e.Channels
	discordgo.EndpointUsers = e.Users
	discordgo.EndpointGateway = e.Gateway
	discordgo.EndpointGatewayBot = e.GatewayBot
	discordgo.EndpointWebhooks = e.Webhooks
	discordgo.EndpointStickers = e.Stickers
	discordgo.EndpointStageInstances = e.StageInstances
	discordgo.EndpointSKUs = e.SKUs
	discordgo.EndpointVoice = e.Voice
	discordgo.EndpointVoiceRegions = e.VoiceRegions
	discordgo.EndpointNitroStickersPacks = e.NitroStickersPacks
	discordgo.EndpointGuildCreate = e.GuildCreate
	discordgo.EndpointApplications = e.Applications
	discordgo.EndpointOAuth2 = e.OAuth2
	discordgo.EndpointOAuth2Applications = e.OAuth2Applications
	discordgo.EndpointOauth2 = e.OAuth2
	discordgo.EndpointOauth2Applications = e.OAuth2Applications
	return nil
}
