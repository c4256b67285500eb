-- Serves "users of a department, in id order" (the admin listing) as an index range scan.
CREATE INDEX idx_users_department_id ON users (department, id);
