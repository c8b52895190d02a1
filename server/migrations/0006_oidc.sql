-- Sign-in through the company's identity provider. A local login is checked against its account
-- in configuration on every request; an identity provider's login keeps the role its groups gave
-- at sign-in (a person removed from a group loses that role at their next sign-in).
ALTER TABLE staff_logins ADD COLUMN source TEXT NOT NULL DEFAULT 'local'; -- 'local' | 'oidc'
ALTER TABLE staff_logins ADD COLUMN role TEXT;                            -- oidc only
ALTER TABLE staff_logins ADD COLUMN environment_roles TEXT;               -- oidc only: JSON [[env, role|null]]
