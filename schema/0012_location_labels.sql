-- Gmail's labels of a message where it was found (X-GM-LABELS, issue 18): a JSON array of
-- strings ("\\Inbox", "\\Sent", "Deals/Acme"...), per location, since the same message carries
-- its labels in every label folder. '[]' for servers without labels.
ALTER TABLE locations ADD COLUMN labels TEXT NOT NULL DEFAULT '[]';
