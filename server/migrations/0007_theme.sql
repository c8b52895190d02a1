-- The theme each staff member chose: 'light', 'dark', or NULL to follow the system setting.
ALTER TABLE staff_preferences ADD COLUMN theme TEXT;
