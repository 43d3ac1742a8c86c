-- Client ids and the server's own message keys in separate namespaces (see
-- agent/conversation/message-keys.ts): a client's id is stored as 'c:<id>', a reply's key is
-- 'reply:<the user message key>'. Typed user messages carried client ids; typed character
-- messages ending in ':reply' were replies; everything else (greetings, voice item ids) keeps
-- its key. The unique index is rebuilt around the rewrite so no intermediate state can clash.
DROP INDEX "messages_room_client_id_idx";--> statement-breakpoint
UPDATE "messages" SET "client_id" = 'reply:c:' || left("client_id", -6)
  WHERE "sender" = 'character' AND "modality" = 'text' AND "client_id" LIKE '%:reply';--> statement-breakpoint
UPDATE "messages" SET "client_id" = 'c:' || "client_id"
  WHERE "sender" = 'user' AND "modality" = 'text' AND "client_id" IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "messages_room_client_id_idx" ON "messages" USING btree ("chat_room_id","client_id");
