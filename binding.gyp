{
  "targets": [
    {
      "target_name": "libgosfu",
      "type": "none",
      "actions": [
        {
          "action_name": "go_build",
          # Every Go source is an input, so that an incremental build
          # relinks exactly when the engine changed. One output only
          # (go build writes libgosfu.h beside it): with several, gyp's
          # make rules run the action on every build.
          "inputs": ["scripts/build-go.js", "<!@(node scripts/go-sources.js)"],
          "outputs": ["<(PRODUCT_DIR)/libgosfu.so"],
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
