package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/evo-tr/evo/bots/discord"
	"github.com/evo-tr/evo/bots/telegram"
	"github.com/evo-tr/evo/brain"
)

// startBots starts every bot whose token is set, each through goRun,
// records each as its platform's Deliverer in delivers, and reports how many
// started. Each bot delivers its replies in flight for SHUTDOWN_TIMEOUT
// after ctx ends (plus a little, so that the brain's bound decides).
func (a *app) startBots(ctx context.Context, b *brain.Brain, goRun func(string, func(context.Context) error),
	delivers map[brain.Platform]brain.Deliverer) (int, error) {
	grace := a.cfg.ShutdownTimeout + 5*time.Second
	n := 0
	if a.cfg.TelegramBotToken != "" {
		admins, err := parseIDs(a.cfg.TelegramAdminIDs)
		if err != nil {
			return n, fmt.Errorf("TELEGRAM_ADMIN_IDS: %w", err)
		}
		tg, err := telegram.New(telegram.Config{
			Token:         a.cfg.TelegramBotToken,
			APIURL:        a.cfg.TelegramAPIURL,
			WebhookURL:    a.cfg.TelegramWebhookURL,
			WebhookSecret: a.cfg.TelegramWebhookSecret,
			WebhookListen: a.cfg.TelegramWebhookListen,
			AdminIDs:      admins,
			ShutdownGrace: grace,
		}, b, a.log.With("bot", "telegram"), brain.SystemClock{})
		if err != nil {
			return n, fmt.Errorf("telegram: %w", err)
		}
		delivers[brain.PlatformTelegram] = tg
		goRun("telegram", tg.Run)
		n++
	}
	if a.cfg.DiscordBotToken != "" {
		// discordgo keeps its endpoints in package variables: set them once.
		if err := discord.SetEndpoints(a.cfg.DiscordAPIURL); err != nil {
			return n, fmt.Errorf("DISCORD_API_URL: %w", err)
		}
		dc, err := discord.New(discord.Config{Token: a.cfg.DiscordBotToken, AdminIDs: a.cfg.DiscordAdminIDs, ShutdownGrace: grace},
			b, a.log.With("bot", "discord"), brain.SystemClock{})
		if err != nil {
			return n, fmt.Errorf("discord: %w", err)
		}
		delivers[brain.PlatformDiscord] = dc
		goRun("discord", dc.Run)
		n++
	}
	return n, nil
}

// parseIDs turns numeric user ids from the configuration into int64s.
func parseIDs(ids []string) ([]int64, error) {
	out := make([]int64, 0, len(ids))
	for _, s := range ids {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a numeric user id", s)
		}
		out = append(out, id)
	}
	return out, nil
}
