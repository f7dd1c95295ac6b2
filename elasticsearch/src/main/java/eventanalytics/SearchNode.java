package eventanalytics;

import static org.codelibs.elasticsearch.runner.ElasticsearchClusterRunner.newConfigs;

import org.codelibs.elasticsearch.runner.ElasticsearchClusterRunner;

/**
 * Starts one Elasticsearch node and keeps it running until the JVM is stopped.
 *
 * <p>Arguments: http port, transport port, data folder. The folder is kept across starts (a node
 * killed and started again on it recovers its indices from the translog); the JVM's heap is set by
 * whoever starts it. Prints "search-node ready" once the cluster is green.
 */
public final class SearchNode {
  private SearchNode() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: SearchNode <http port> <transport port> <data folder>");
      System.exit(2);
    }
    final int httpPort = Integer.parseInt(args[0]);
    final int transportPort = Integer.parseInt(args[1]);
    final String folder = args[2];
    final ElasticsearchClusterRunner runner = new ElasticsearchClusterRunner();
    runner.setMaxHttpPort(httpPort); // that port or none: the runner would otherwise look for a free one
    runner.onBuild((number, settings) -> {
      settings.put("http.port", Integer.toString(httpPort));
      settings.put("transport.port", Integer.toString(transportPort));
      settings.put("network.host", "127.0.0.1");
      // A test machine's disk is often fuller than the default 85/90/95% watermarks allow.
      settings.put("cluster.routing.allocation.disk.threshold_enabled", "false");
      settings.put("action.auto_create_index", "false");
    }).build(newConfigs()
        .clusterName("event-analytics")
        .numOfNode(1)
        .basePath(folder)
        .baseHttpPort(httpPort - 1)
        .disableESLogger());
    runner.ensureGreen();
    System.out.println("search-node ready http=" + httpPort);
    System.out.flush();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        runner.close();
      } catch (Exception e) {
        // the JVM is going away either way
      }
    }));
    Thread.currentThread().join();
  }
}
