-- Blobs may be stored compressed. `codec` says how `data` is encoded: 'none' (as is) or 'zstd'
-- (one zstd frame). `size` stays the original length. crm-mail keeps raw messages as zstd when
-- that saves at least a tenth (about half the bytes on real mail); attachments, mostly already
-- compressed formats, stay as they are. Readers must decode by `codec`.
ALTER TABLE blobs ADD COLUMN codec TEXT NOT NULL DEFAULT 'none' CHECK (codec IN ('none', 'zstd'));
