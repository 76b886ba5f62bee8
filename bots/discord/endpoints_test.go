package discord

import "testing"

func TestEndpoints(t *testing.T) {
	tests := []struct {
		in                     string
		api, gateway, interact string
		wantErr                bool
	}{
		{in: "", api: "https://discord.com/api/v9/", gateway: "https://discord.com/api/v9/gateway"},
		{in: "https://discord.com", api: "https://discord.com/api/v9/", gateway: "https://discord.com/api/v9/gateway"},
		{in: "http://127.0.0.1:8080/", api: "http://127.0.0.1:8080/api/v9/", gateway: "http://127.0.0.1:8080/api/v9/gateway"},
		{in: "http://proxy:81/discord//", api: "http://proxy:81/discord/api/v9/", gateway: "http://proxy:81/discord/api/v9/gateway"},
		{in: "discord.com", wantErr: true},
		{in: "ftp://discord.com", wantErr: true},
		{in: "http://", wantErr: true},
		{in: "http://x/?a=b", wantErr: true},
		{in: "http://[::1", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := endpoints(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("endpoints(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got.API != tt.api || got.Gateway != tt.gateway {
				t.Errorf("endpoints(%q) = API %q gateway %q, want %q %q", tt.in, got.API, got.Gateway, tt.api, tt.gateway)
			}
			if want := tt.api + "channels/"; got.Channels != want {
				t.Errorf("Channels = %q, want %q", got.Channels, want)
			}
			if want := tt.api + "gateway/bot"; got.GatewayBot != want {
				t.Errorf("GatewayBot = %q, want %q", got.GatewayBot, want)
			}
			if want := tt.api + "applications"; got.Applications != want {
				t.Errorf("Applications = %q, want %q", got.Applications, want)
			}
			if want := tt.api + "webhooks/"; got.Webhooks != want {
				t.Errorf("Webhooks = %q, want %q", got.Webhooks, want)
			}
		})
	}
}
