{
  "targets": [
    {
      "target_name": "libgosfu",
      "type": "none",
      "actions": [
        {
          "action_name": "go_build",
          "inputs": ["go.mod", "go.sum", "scripts/build-go.js"],
          "outputs": ["<(PRODUCT_DIR)/libgosfu.so", "<(PRODUCT_DIR)/libgosfu.h"],
          "action": ["node", "scripts/build-go.js", "<(PRODUCT_DIR)"],
          "message": "Building the Go engine (libgosfu.so)"
        }
      ]
    },
    {
      "target_name": "gosfu",
      "dependencies": ["libgosfu"],
      "sources": ["src/addon.c"],
      "include_dirs": ["<(PRODUCT_DIR)", "capi"],
      "cflags": ["-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "libraries": ["-L<(PRODUCT_DIR)", "-lgosfu", "-Wl,-rpath,'$$ORIGIN'", "-lpthread"]
    }
  ]
}
