-- Notices by SMS for residents without WeChat who ask for them (`sms_notices`); a notice that
-- went by SMS says so (`by_sms`; `wechat` is then `skipped`, or `failed` if the SMS failed).
ALTER TABLE users ADD COLUMN sms_notices INTEGER NOT NULL DEFAULT 0 CHECK (sms_notices IN (0, 1));
ALTER TABLE notices ADD COLUMN by_sms INTEGER NOT NULL DEFAULT 0 CHECK (by_sms IN (0, 1));
