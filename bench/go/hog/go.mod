module gorthog

go 1.19
