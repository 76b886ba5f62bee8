package telegramtest

import (
	"io"
	"mime/multipart"
	"strconv"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"
)

// maxUpload is the Bot API's limit on a file a bot uploads.
const maxUpload = 50 << 20

// Upload is a file part of a multipart request.
type Upload struct {
	// Filename is the part's file name, ContentType its Content-Type.
	Filename    string
	ContentType string
	Data        []byte
}

// Document is a file the bot sent with sendDocument.
type Document struct {
	MessageID   int
	ChatID      int64
	ThreadID    int
	FileName    string
	ContentType string
	Data        []byte
	Caption     string
	At          time.Time
}

func readUpload(fh *multipart.FileHeader) (Upload, error) {
	f, err := fh.Open()
	if err != nil {
		return Upload{}, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxUpload+1))
	if err != nil {
		return Upload{}, err
	}
	return Upload{Filename: fh.Filename, ContentType: fh.Header.Get("Content-Type"), Data: data}, nil
}

// sendDocument accepts, as Telegram does, a document uploaded as a file
// part named "document" or named by "attach://<part>"; a file id or URL
// is refused here (the fake stores no files to refer to).
func (s *Server) sendDocument(p map[string]string, files map[string]Upload) (any, *apiError) {
	chat, aerr := chatID(p)
	if aerr != nil {
		return nil, aerr
	}
	up, found := files["document"]
	if ref, isRef := strings.CutPrefix(p["document"], "attach://"); isRef {
		up, found = files[ref]
	}
	switch {
	case !found && p["document"] != "" && p["document"] != "null":
		return nil, badRequest("wrong remote file identifier specified: Wrong string length")
	case !found:
		return nil, badRequest("there is no document in the request")
	case len(up.Data) == 0:
		return nil, badRequest("file must be non-empty")
	case len(up.Data) > maxUpload:
		return nil, &apiError{code: 413, description: "Request Entity Too Large"}
	}
	thread, _ := strconv.Atoi(p["message_thread_id"])
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	d := Document{MessageID: s.newMessageID(chat), ChatID: chat, ThreadID: thread, FileName: up.Filename,
		ContentType: up.ContentType, Data: append([]byte(nil), up.Data...), Caption: p["caption"], At: now}
	s.documents = append(s.documents, d)
	return models.Message{
		ID: d.MessageID, MessageThreadID: thread, From: &s.me, Chat: s.chat(chat), Date: int(now.Unix()),
		Caption:  d.Caption,
		Document: &models.Document{FileID: "doc-" + strconv.Itoa(len(s.documents)), FileUniqueID: "u" + strconv.Itoa(len(s.documents)), FileName: d.FileName, MimeType: d.ContentType, FileSize: int64(len(d.Data))},
	}, nil
}

// Documents returns the documents the bot sent to a chat, oldest first.
func (s *Server) Documents(chatID int64) []Document {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Document
	for _, d := range s.documents {
		if d.ChatID == chatID {
			d.Data = append([]byte(nil), d.Data...)
			out = append(out, d)
		}
	}
	return out
}

// AllDocuments returns every document the bot sent, oldest first.
func (s *Server) AllDocuments() []Document {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Document, len(s.documents))
	for i, d := range s.documents {
		d.Data = append([]byte(nil), d.Data...)
		out[i] = d
	}
	return out
}
